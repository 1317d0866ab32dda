/**
 * The SDK's one outgoing queue for task reports: in order, paced under the
 * server's per-connection limit, and bounded. Rules (docs/agents.md, "The
 * TypeScript SDK"):
 *
 * - Progress reports and log lines each spend a token of the SDK's own
 *   bucket: 40 a second, bursts of 40 by default, under the server's 50 and
 *   100, so a registration fits beside them and a burst bunched up on the
 *   way still fits. Heartbeats and metrics, sent beside the queue, take
 *   their token too (`charge`).
 * - Only a task's latest progress matters: a newer one replaces one not yet
 *   sent, and a task's end drops its unsent progress. A progress message (the
 *   text) is a log line too, so the text of a dropped progress stays in its
 *   place as a log line.
 * - A final report (`task:complete`, `task:fail`) spends no token (the server
 *   does not count them: one per assignment) and leaves as soon as everything
 *   queued before it for the same task has: a task's lines arrive before its
 *   end, and no task's end waits behind another task's lines. Since the server
 *   assigns nothing new until a task ends, a task that logs faster than the
 *   pace holds its slot: the agent slows down rather than being refused.
 * - At most `maxQueued` lines wait. Past that a task's further lines are
 *   dropped and counted, and a note `… N log lines dropped` takes their place
 *   when there is room again, or before the task's end.
 */
import type { AgentsClientToServer } from '../shared/protocol'

export type OutboxEvent = 'task:progress' | 'log' | 'task:complete' | 'task:fail'
export type OutboxMessage<E extends OutboxEvent> = Parameters<AgentsClientToServer[E]>[0]

export interface OutboxOptions {
  /** Lines sent per second at most (default 40; the server allows 50). */
  perSecond?: number
  /** Lines sent at once at most (default 40; the server allows 100). */
  burst?: number
  /** Lines waiting at most before log lines are dropped (default 1,000). */
  maxQueued?: number
}

export const OUTBOX_DEFAULTS: Readonly<Required<OutboxOptions>> = Object.freeze({
  perSecond: 40,
  burst: 40,
  maxQueued: 1000,
})

/** Sends one message now; the outbox has decided it may go. */
export type OutboxSend = <E extends OutboxEvent>(event: E, message: OutboxMessage<E>) => void

interface Line {
  event: 'task:progress' | 'log'
  taskId: string
  message: OutboxMessage<'task:progress'> | OutboxMessage<'log'>
  /** Replaced or forgotten: skipped without spending a token. */
  dead: boolean
}

interface Final {
  event: 'task:complete' | 'task:fail'
  message: OutboxMessage<'task:complete'> | OutboxMessage<'task:fail'>
}

export class Outbox {
  private readonly settings: Required<OutboxOptions>
  private lines: Line[] = []
  private head = 0
  /** Live lines waiting, per task and in all. */
  private readonly waiting = new Map<string, number>()
  private size = 0
  private readonly unsentProgress = new Map<string, Line>()
  private readonly finals = new Map<string, Final>()
  private readonly dropped = new Map<string, number>()
  private tokens: number
  private refilledAt: number
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly send: OutboxSend,
    options: OutboxOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.settings = { ...OUTBOX_DEFAULTS, ...options }
    for (const [key, value] of Object.entries(this.settings)) {
      if (!Number.isFinite(value) || value <= 0)
        throw new Error(`outgoing.${key} must be a positive number, got ${value}`)
    }
    this.tokens = this.settings.burst
    this.refilledAt = now()
  }

  /** Lines waiting to be sent. */
  get queued(): number {
    return this.size
  }

  progress(taskId: string, message: OutboxMessage<'task:progress'>): void {
    this.retire(taskId)
    const line = this.push(taskId, 'task:progress', message)
    this.unsentProgress.set(taskId, line)
    this.drain()
  }

  log(message: OutboxMessage<'log'> & { taskId: string }): void {
    this.addLog(message.taskId, message)
    this.drain()
  }

  /** The task's end: sent once everything queued for the task before it is. */
  final<E extends 'task:complete' | 'task:fail'>(event: E, message: OutboxMessage<E> & { taskId: string }): void {
    const { taskId } = message
    this.retire(taskId)
    this.note(taskId)
    if (this.waiting.has(taskId)) this.finals.set(taskId, { event, message })
    else this.send(event, message)
    this.drain()
  }

  /**
   * A message sent beside the queue (heartbeat, metrics): it takes a token,
   * even one not there yet, so queued lines wait for it and the total stays
   * within the pace.
   */
  charge(): void {
    this.refill()
    this.tokens = Math.max(-this.settings.burst, this.tokens - 1)
  }

  /** The server cancelled the task: nothing more about it may be sent. */
  forget(taskId: string): void {
    this.finals.delete(taskId)
    this.unsentProgress.delete(taskId)
    this.dropped.delete(taskId)
    for (let i = this.head; i < this.lines.length; i++) {
      const line = this.lines[i]!
      if (line.taskId === taskId && !line.dead) this.kill(line)
    }
  }

  /** The connection is gone and with it every task: drop everything. */
  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.lines = []
    this.head = 0
    this.size = 0
    this.waiting.clear()
    this.unsentProgress.clear()
    this.finals.clear()
    this.dropped.clear()
  }

  // ── internals ─────────────────────────────────────────────────────────────

  private push(taskId: string, event: Line['event'], message: Line['message']): Line {
    const line: Line = { event, taskId, message, dead: false }
    this.lines.push(line)
    this.waiting.set(taskId, (this.waiting.get(taskId) ?? 0) + 1)
    this.size++
    return line
  }

  /** A log line, unless the queue is full: then it is counted for the note. */
  private addLog(taskId: string, message: OutboxMessage<'log'>): void {
    if (this.size >= this.settings.maxQueued) {
      this.dropped.set(taskId, (this.dropped.get(taskId) ?? 0) + 1)
      return
    }
    this.note(taskId)
    this.push(taskId, 'log', message)
  }

  /** Queues the note about a task's dropped lines; one per task may exceed the bound. */
  private note(taskId: string): void {
    const count = this.dropped.get(taskId)
    if (!count) return
    this.dropped.delete(taskId)
    const what = count === 1 ? '1 log line' : `${count} log lines`
    this.push(taskId, 'log', {
      taskId,
      level: 'warn',
      message: `… ${what} dropped: the agent produced them faster than it may send (${this.settings.perSecond} a second, ${this.settings.maxQueued} waiting at most)`,
    })
  }

  /** Takes the task's unsent progress out of the queue; its text, if any, stays as a log line. */
  private retire(taskId: string): void {
    const line = this.unsentProgress.get(taskId)
    if (!line) return
    this.unsentProgress.delete(taskId)
    const { message: text } = line.message as OutboxMessage<'task:progress'>
    this.kill(line)
    if (text) this.addLog(taskId, { taskId, level: 'info', message: text })
  }

  private kill(line: Line): void {
    line.dead = true
    this.size--
    this.settle(line.taskId)
  }

  /** One line of the task left the queue: its end goes out once none is left. */
  private settle(taskId: string): void {
    const left = (this.waiting.get(taskId) ?? 1) - 1
    if (left > 0) return void this.waiting.set(taskId, left)
    this.waiting.delete(taskId)
    const final = this.finals.get(taskId)
    if (!final) return
    this.finals.delete(taskId)
    this.send(final.event, final.message)
  }

  private refill(): void {
    const now = this.now()
    const { perSecond, burst } = this.settings
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * perSecond) / 1000)
    this.refilledAt = now
  }

  private drain(): void {
    this.refill()
    const { perSecond } = this.settings
    while (this.head < this.lines.length) {
      const line = this.lines[this.head]!
      if (line.dead) {
        this.head++
        continue
      }
      if (this.tokens < 1) break
      this.tokens--
      this.head++
      this.size--
      if (this.unsentProgress.get(line.taskId) === line) this.unsentProgress.delete(line.taskId)
      this.send(line.event, line.message)
      this.settle(line.taskId)
    }
    if (this.head === this.lines.length) {
      this.lines = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head)
      this.head = 0
    }
    if (this.size > 0 && this.timer === undefined) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / perSecond))
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.drain()
      }, waitMs)
    }
  }
}
