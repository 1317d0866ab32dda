/**
 * Gathers events for viewers into batches, in seq order.
 *
 * Each channel has a window — the longest an event of it may wait (agents
 * 200 ms, metrics 500 ms, logs 1 s by default). The batch leaves when the
 * earliest window among its events ends, when it holds `maxBatch` events, or
 * at once for what a person waits for: task completion and failure, errors,
 * critical alerts — "at once" meaning at the end of the current turn (a
 * microtask), so everything pushed in the same turn (a burst of error lines,
 * a task's end and its agent's new status) leaves as one batch. Everything pending leaves together, so every client sees
 * events in seq order. Within a batch only the latest state of an agent (and
 * of an unfinished task) is kept; terminal task events are never dropped.
 */
import { isTerminal } from '../../../shared/domain'
import { EVENT_CHANNEL, type Channel, type DomainEvent } from '../../../shared/events'

export type Windows = Record<Channel, number>

export const DEFAULT_WINDOWS: Windows = { agents: 200, tasks: 200, metrics: 500, logs: 1000, alerts: 200 }

export interface BatcherOptions {
  windows?: Partial<Windows>
  maxBatch?: number
  send(events: DomainEvent[]): void
  /** Told each time a pending event is replaced by a newer state. */
  coalesced?(): void
  now?: () => number
}

export function isImmediate(event: DomainEvent): boolean {
  switch (event.type) {
    case 'task:status':
      return isTerminal(event.task.status)
    case 'alert':
      return event.alert.severity === 'critical'
    case 'task:log':
      return event.level === 'error'
    case 'agent:status':
      return event.agent.status === 'error'
    case 'agent:removed':
    case 'metrics':
      return false
    default: {
      // Every event type decides here whether a person waits for it: a new one fails to compile until it does.
      const never: never = event
      return never
    }
  }
}

/** The key under which newer events replace older ones in a batch, or null. */
function coalesceKey(event: DomainEvent): string | null {
  switch (event.type) {
    case 'agent:status':
      return `a:${event.agent.id}`
    case 'task:status':
      // Terminal states are never replaced: every viewer must see a task end.
      return isTerminal(event.task.status) ? null : `t:${event.task.id}`
    // Removals, log lines, samples and alerts are each news of their own.
    case 'agent:removed':
    case 'task:log':
    case 'metrics':
    case 'alert':
      return null
    default: {
      const never: never = event
      return never
    }
  }
}

export class Batcher {
  private pending: (DomainEvent | null)[] = []
  private live = 0
  private readonly latest = new Map<string, number>()
  private deadline = Infinity
  private timer: NodeJS.Timeout | null = null
  /** A flush is due at the end of this turn (an immediate event came). */
  private flushQueued = false
  private readonly windows: Windows
  private readonly maxBatch: number
  private readonly now: () => number

  constructor(private readonly options: BatcherOptions) {
    this.windows = { ...DEFAULT_WINDOWS, ...options.windows }
    this.maxBatch = options.maxBatch ?? 100
    this.now = options.now ?? Date.now
  }

  push(event: DomainEvent): void {
    const key = coalesceKey(event)
    if (key !== null) {
      const previous = this.latest.get(key)
      if (previous !== undefined) {
        this.pending[previous] = null
        this.live--
        this.options.coalesced?.()
      }
      this.latest.set(key, this.pending.length)
    }
    this.pending.push(event)
    this.live++
    if (this.live >= this.maxBatch) {
      this.flush()
      return
    }
    if (isImmediate(event)) {
      if (!this.flushQueued) {
        this.flushQueued = true
        queueMicrotask(() => {
          if (this.flushQueued) this.flush()
        })
      }
      return
    }
    const deadline = this.now() + this.windows[EVENT_CHANNEL[event.type]]
    if (deadline < this.deadline) {
      this.deadline = deadline
      if (this.timer) clearTimeout(this.timer)
      this.timer = setTimeout(() => this.flush(), deadline - this.now())
    }
  }

  /** Sends everything pending now. */
  flush(): void {
    this.flushQueued = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.deadline = Infinity
    if (this.live === 0) {
      this.pending = []
      return
    }
    const batch = this.pending.filter((event): event is DomainEvent => event !== null)
    this.pending = []
    this.live = 0
    this.latest.clear()
    this.options.send(batch)
  }

  stop(): void {
    this.flush()
  }
}
