/**
 * Sends events to viewers in batches: one encode per batch for every client.
 * Events wait at most `windowMs`; a full batch, and the events a person
 * waits for (task completion and failure, errors, critical alerts), go at
 * once. (The per-channel windows, subscriptions and coalescing of the full
 * pipeline build on this.)
 */
import type { DomainEvent } from '../../../shared/events'
import { isTerminal } from '../../../shared/domain'

export interface BroadcasterOptions {
  windowMs: number
  maxBatch: number
  send(events: DomainEvent[]): void
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
    default:
      return false
  }
}

export class Broadcaster {
  private pending: DomainEvent[] = []
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly options: BroadcasterOptions) {}

  push(event: DomainEvent): void {
    this.pending.push(event)
    if (isImmediate(event) || this.pending.length >= this.options.maxBatch) {
      this.flush()
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.options.windowMs)
    }
  }

  /** Sends what is pending now. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.pending.length === 0) return
    const batch = this.pending
    this.pending = []
    this.options.send(batch)
  }

  stop(): void {
    this.flush()
  }
}
