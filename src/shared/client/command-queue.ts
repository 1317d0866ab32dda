/**
 * Operator commands on an unreliable link: every command goes through this
 * queue, which sends it only while the link is up, in the order commands
 * were issued, at a pace under the server's per-connection rate limit.
 *
 * Delivery rule (documented in src/shared/client/README.md):
 * - A command that has not left the client waits (up to `limit` of them,
 *   then `queue_full`) and is sent exactly once, after the reconnect.
 * - A command that has left is never sent again. If the link drops (or the
 *   acknowledgement times out) before the server answers, the caller gets
 *   `unavailable` saying the outcome is unknown: the server has no way to
 *   recognise a repeat, and a resent `task:submit` would create a second
 *   task. At-most-once for commands in flight, exactly-once for queued ones.
 */
import { fail, type Result } from '../result'
import type { ClientLog } from './states'

export interface CommandQueueOptions {
  /** Commands waiting to be sent, at most (default 1000). */
  limit?: number
  /** How long a sent command waits for its acknowledgement (default 10 000 ms). */
  timeoutMs?: number
  /** Commands sent per second at most (default 40; the server allows 50/s with bursts of 100). */
  ratePerSecond?: number
  /** Commands sent at once when the link comes up (default 40). */
  burst?: number
  /** Emits one command with an acknowledgement; rejects when it times out or the link drops. */
  send(name: string, payload: unknown, timeoutMs: number): Promise<Result<unknown>>
  log?: ClientLog
}

interface Entry {
  name: string
  payload: unknown
  resolve: (result: Result<unknown>) => void
  settled: boolean
}

export const COMMAND_QUEUE_DEFAULTS = { limit: 1000, timeoutMs: 10_000, ratePerSecond: 40, burst: 40 } as const

export class CommandQueue {
  private readonly waiting: Entry[] = []
  private readonly inFlight = new Set<Entry>()
  private readonly limit: number
  private readonly timeoutMs: number
  private readonly rate: number
  private readonly burst: number
  private open = false
  private tokens: number
  private refilledAt = Date.now()
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly options: CommandQueueOptions) {
    this.limit = options.limit ?? COMMAND_QUEUE_DEFAULTS.limit
    this.timeoutMs = options.timeoutMs ?? COMMAND_QUEUE_DEFAULTS.timeoutMs
    this.rate = Math.max(1, options.ratePerSecond ?? COMMAND_QUEUE_DEFAULTS.ratePerSecond)
    this.burst = Math.max(1, options.burst ?? COMMAND_QUEUE_DEFAULTS.burst)
    this.tokens = this.burst
  }

  /** Commands waiting for the link. */
  get queued(): number {
    return this.waiting.length
  }

  /** Commands sent and not yet answered. */
  get pending(): number {
    return this.inFlight.size
  }

  /** Queues a command; resolves with the server's acknowledgement, or a clear refusal. Never rejects. */
  enqueue(name: string, payload: unknown): Promise<Result<unknown>> {
    if (this.waiting.length >= this.limit) {
      return Promise.resolve(
        fail(
          'queue_full',
          `${this.limit} commands are already waiting for the connection, so this one was not queued; try again once the connection is back`,
        ),
      )
    }
    return new Promise((resolve) => {
      this.waiting.push({ name, payload, resolve, settled: false })
      this.pump()
    })
  }

  /** The link is up: send what waits. */
  linkUp(): void {
    this.open = true
    // A new connection starts with a full allowance on the server too.
    this.tokens = this.burst
    this.refilledAt = Date.now()
    this.pump()
  }

  /** The link is down: stop sending; what was in flight gets its "outcome unknown" answer now. */
  linkDown(): void {
    this.open = false
    clearTimeout(this.timer)
    for (const entry of [...this.inFlight]) {
      this.settle(
        entry,
        fail(
          'unavailable',
          `${entry.name}: the connection dropped before the server answered, so it may or may not have been applied; it is not sent again (it could run twice), check before retrying`,
        ),
      )
    }
  }

  /** Refuses everything still waiting or in flight (the client is going away). */
  dispose(message: string): void {
    this.linkDown()
    for (const entry of this.waiting.splice(0)) this.settle(entry, fail('unavailable', message))
  }

  private pump(): void {
    clearTimeout(this.timer)
    if (!this.open) return
    const now = Date.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.rate) / 1000)
    this.refilledAt = now
    while (this.open && this.waiting.length > 0 && this.tokens >= 1) {
      this.tokens--
      this.dispatch(this.waiting.shift()!)
    }
    if (this.open && this.waiting.length > 0) {
      this.timer = setTimeout(() => this.pump(), Math.ceil(((1 - this.tokens) * 1000) / this.rate))
    }
  }

  private dispatch(entry: Entry): void {
    this.inFlight.add(entry)
    let sent: Promise<Result<unknown>>
    try {
      sent = this.options.send(entry.name, entry.payload, this.timeoutMs)
    } catch (error) {
      sent = Promise.reject(error)
    }
    sent.then(
      (result) => this.settle(entry, result),
      () =>
        this.settle(
          entry,
          fail(
            'unavailable',
            `${entry.name}: no answer within ${this.timeoutMs / 1000} s, so it may or may not have been applied; it is not sent again, check before retrying`,
          ),
        ),
    )
  }

  private settle(entry: Entry, result: Result<unknown>): void {
    if (entry.settled) return
    entry.settled = true
    this.inFlight.delete(entry)
    if (!result.ok) this.options.log?.('debug', `${entry.name} refused: ${result.error.code}: ${result.error.message}`)
    entry.resolve(result)
  }
}
