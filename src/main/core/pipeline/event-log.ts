/**
 * Gives every domain event its `seq` and keeps the most recent ones in a ring
 * buffer, so a client that missed some can be replayed the gap.
 */
import type { DomainEvent, UnsequencedEvent } from '../../../shared/events'

export type EventListener = (event: DomainEvent) => void

export class EventLog {
  private last = 0
  private readonly ring: (DomainEvent | undefined)[]
  private readonly listeners = new Set<EventListener>()

  constructor(readonly capacity = 10_000) {
    this.ring = new Array<DomainEvent | undefined>(capacity)
  }

  /** The seq of the newest event (0 before the first). */
  get seq(): number {
    return this.last
  }

  append(event: UnsequencedEvent): DomainEvent {
    const sequenced = { ...event, seq: ++this.last } as DomainEvent
    this.ring[sequenced.seq % this.capacity] = sequenced
    for (const listener of this.listeners) listener(sequenced)
    return sequenced
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Events after `sinceSeq`, oldest first; null when some of them have
   * already left the buffer (the caller then needs a snapshot).
   */
  since(sinceSeq: number): DomainEvent[] | null {
    if (sinceSeq > this.last) return null
    if (this.last - sinceSeq > this.capacity) return null
    const events: DomainEvent[] = []
    for (let seq = sinceSeq + 1; seq <= this.last; seq++) {
      const event = this.ring[seq % this.capacity]
      if (event?.seq !== seq) return null
      events.push(event)
    }
    return events
  }
}
