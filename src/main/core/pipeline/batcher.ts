/**
 * Gathers events for viewers into batches, in seq order.
 *
 * Each channel has a window — the longest an event of it may wait (agents
 * 200 ms, metrics 500 ms, logs 1 s by default). The batch leaves when the
 * earliest window among its events ends, when it holds `maxBatch` events, or
 * at once for what a person waits for: task completion and failure, errors,
 * critical alerts — "at once" meaning at the end of the current turn (a
 * microtask), so everything pushed in the same turn (a burst of error lines,
 * a task's end and its agent's new status) leaves as one batch. Everything
 * pending leaves together, so every client sees events in seq order.
 *
 * Within a batch the events about one agent, or one task, merge into one
 * (`changes.ts`: a partial update into the whole state before it, or two
 * partial updates into one), which takes the later one's place and seq, so
 * applying it does what applying each did. A task's terminal event is never
 * merged away: earlier updates merge into it, and nothing after it merges in
 * (a retry starts afresh); an agent's removal likewise ends its merging.
 */
import { mergeAgentEvents, mergeTaskEvents, type AgentEvent, type TaskEvent } from '../../../shared/changes'
import { isTerminal } from '../../../shared/domain'
import { EVENT_CHANNEL, type Channel, type DomainEvent } from '../../../shared/events'

export type Windows = Record<Channel, number>

export const DEFAULT_WINDOWS: Windows = {
  agents: 200,
  tasks: 200,
  metrics: 500,
  logs: 1000,
  alerts: 200,
  operator: 200,
}

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
      return isTerminal(event.status)
    case 'task:added':
      return isTerminal(event.task.status)
    case 'alert':
      return event.alert.severity === 'critical'
    case 'task:log':
      return event.level === 'error'
    case 'agent:status':
      return event.status === 'error'
    case 'agent:added':
      return event.agent.status === 'error'
    case 'agent:removed':
    case 'task:progress':
    case 'metrics':
    case 'kind:limits':
    case 'schedule':
    case 'schedule:removed':
      // An operator's change is answered to that operator at once; other viewers see it within the window.
      return false
    default: {
      // Every event type decides here whether a person waits for it: a new one fails to compile until it does.
      const never: never = event
      return never
    }
  }
}

/** How an event merges with the pending ones: its entity's key, and whether it closes that entity's merging. */
interface Coalescing {
  key: string
  /** Nothing after this event merges into it (a task's end, an agent's removal). */
  last: boolean
  /** Whether it merges with an earlier pending event of its key (a removal does not). */
  merges: boolean
}

/** Null: the event is news of its own, never merged. */
function coalescing(event: DomainEvent): Coalescing | null {
  switch (event.type) {
    case 'agent:added':
    case 'agent:status':
      return { key: `a:${agentOf(event)}`, last: false, merges: true }
    case 'agent:removed':
      return { key: `a:${event.agentId}`, last: true, merges: false }
    case 'task:added':
      // Terminal states are never merged away: every viewer must see a task end.
      return { key: `t:${event.task.id}`, last: isTerminal(event.task.status), merges: true }
    case 'task:status':
      return { key: `t:${event.taskId}`, last: isTerminal(event.status), merges: true }
    case 'task:progress':
      return { key: `t:${event.taskId}`, last: false, merges: true }
    // Whole states: the later one replaces the earlier (a schedule's removal ends it; ids are never reused).
    case 'kind:limits':
      return { key: `k:${event.kind}`, last: false, merges: true }
    case 'schedule':
      return { key: `s:${event.schedule.id}`, last: false, merges: true }
    case 'schedule:removed':
      return { key: `s:${event.scheduleId}`, last: true, merges: true }
    // Log lines, samples and alerts are each news of their own.
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

function agentOf(event: AgentEvent): string {
  return event.type === 'agent:added' ? event.agent.id : event.agentId
}

/** `earlier` and `later` share a key, so they are about one agent or one task. */
function merge(earlier: DomainEvent, later: DomainEvent): DomainEvent {
  if (isOperatorState(later)) return later
  if (earlier.type === 'agent:added' || earlier.type === 'agent:status') {
    return mergeAgentEvents(earlier, later as AgentEvent)
  }
  return mergeTaskEvents(earlier as TaskEvent, later as TaskEvent)
}

/** A kind's or a schedule's state: whole in every event, so the latest stands for all before it. */
function isOperatorState(event: DomainEvent): boolean {
  return event.type === 'kind:limits' || event.type === 'schedule' || event.type === 'schedule:removed'
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

  push(incoming: DomainEvent): void {
    let event = incoming
    const how = coalescing(event)
    if (how !== null) {
      const previous = how.merges ? this.latest.get(how.key) : undefined
      if (previous !== undefined) {
        event = merge(this.pending[previous]!, event)
        this.pending[previous] = null
        this.live--
        this.options.coalesced?.()
      }
      if (how.last) this.latest.delete(how.key)
      else this.latest.set(how.key, this.pending.length)
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
