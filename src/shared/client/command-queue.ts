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
import type { AckData, RequestOf } from '../event-map'
import { fail, type Ack, type Result } from '../result'
import type { ClientLog } from './states'

/** A map of commands any client may send: for a queue that knows no protocol (tests). */
export interface AnyCommands {
  [name: string]: (payload: unknown, ack: Ack<unknown>) => void
}

/** The queue's commands: the names of map `M`, each with its payload and its acknowledgement's data. */
export type QueuedName<M> = keyof M & string

export interface CommandQueueOptions<M = AnyCommands> {
  /** Commands waiting to be sent, at most (default 1000). */
  limit?: number
  /** How long a sent command waits for its acknowledgement (default 10 000 ms). */
  timeoutMs?: number
  /** Commands sent per second at most (default 40; the server allows 50/s with bursts of 100). */
  ratePerSecond?: number
  /** Commands sent at once when the link comes up (default 40). */
  burst?: number
  /** Emits one command with an acknowledgement; rejects when it times out or the link drops. */
  send<N extends QueuedName<M>>(name: N, payload: RequestOf<M, N>, timeoutMs: number): Promise<Result<AckData<M, N>>>
  log?: ClientLog
}

/** One command; its caller's type lives in the closures, so commands of every type wait in one line. */
interface Entry {
  readonly name: string
  settled: boolean
  /** Emits the command and hands the caller the server's answer; rejects when none comes. */
  emit(timeoutMs: number): Promise<void>
  /** Hands the caller a refusal made here, unless it has its answer already. */
  refuse(result: Result<never>): void
}

export const COMMAND_QUEUE_DEFAULTS = { limit: 1000, timeoutMs: 10_000, ratePerSecond: 40, burst: 40 } as const

export class CommandQueue<M = AnyCommands> {
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

  constructor(private readonly options: CommandQueueOptions<M>) {
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
  enqueue<N extends QueuedName<M>>(name: N, payload: RequestOf<M, N>): Promise<Result<AckData<M, N>>> {
    if (this.waiting.length >= this.limit) {
      return Promise.resolve(
        fail(
          'queue_full',
          `${this.limit} commands are already waiting for the connection, so this one was not queued; try again once the connection is back`,
        ),
      )
    }
    return new Promise((resolve) => {
      const entry: Entry = {
        name,
        settled: false,
        emit: async (timeoutMs) => {
          const result = await this.options.send(name, payload, timeoutMs)
          if (this.settle(entry, result)) resolve(result)
        },
        refuse: (result) => {
          if (this.settle(entry, result)) resolve(result)
        },
      }
      this.waiting.push(entry)
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
      entry.refuse(
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
    for (const entry of this.waiting.splice(0)) entry.refuse(fail('unavailable', message))
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
    entry
      .emit(this.timeoutMs)
      .catch(() =>
        entry.refuse(
          fail(
            'unavailable',
            `${entry.name}: no answer within ${this.timeoutMs / 1000} s, so it may or may not have been applied; it is not sent again, check before retrying`,
          ),
        ),
      )
  }

  /** Marks the entry answered; false when it already was (a late answer after a refusal changes nothing). */
  private settle(entry: Entry, result: Result<unknown>): boolean {
    if (entry.settled) return false
    entry.settled = true
    this.inFlight.delete(entry)
    if (!result.ok) this.options.log?.('debug', `${entry.name} refused: ${result.error.code}: ${result.error.message}`)
    return true
  }
}
