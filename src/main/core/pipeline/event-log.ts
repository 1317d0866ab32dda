/**
 * Gives every domain event its `seq` and keeps the most recent ones in a ring
 * buffer, so a client that missed some can be replayed the gap. The buffer is
 * bounded by count (`capacity`) and by the memory its events hold
 * (`maxBytes`, estimated): 10,000 log lines of 16 KiB would otherwise pin
 * 160 MB.
 */
import type { DomainEvent, UnsequencedEvent } from '../../../shared/events'

export type EventListener = (event: DomainEvent) => void

/** Each event's encoded size, measured the first time a replay needs it (events are never changed). */
const sizes = new WeakMap<DomainEvent, number>()

function encodedSize(event: DomainEvent): number {
  let size = sizes.get(event)
  if (size === undefined) {
    size = JSON.stringify(event).length
    sizes.set(event, size)
  }
  return size
}

/** What an event keeps alive in the buffer beyond what it shares with others: its own text. */
function retainedBytes(event: DomainEvent): number {
  if (event.type === 'task:log') return 150 + event.message.length
  if (event.type === 'task:status') return 250 + (event.error?.length ?? 0)
  if (event.type === 'task:added') return 500 + event.task.name.length + (event.task.error?.length ?? 0)
  if (event.type === 'alert') return 300 + event.alert.message.length
  return 300
}

export class EventLog {
  private last = 0
  /** The oldest seq still in the buffer. */
  private first = 1
  private bytes = 0
  private readonly ring: (DomainEvent | undefined)[]
  private readonly retained: Float64Array
  private readonly listeners = new Set<EventListener>()

  constructor(
    readonly capacity = 10_000,
    readonly maxBytes = 64 * 1024 * 1024,
  ) {
    this.ring = new Array<DomainEvent | undefined>(capacity)
    this.retained = new Float64Array(capacity)
  }

  /** The seq of the newest event (0 before the first). */
  get seq(): number {
    return this.last
  }

  append(event: UnsequencedEvent): DomainEvent {
    return this.store({ ...event, seq: this.last + 1 } as DomainEvent)
  }

  /**
   * An event numbered elsewhere — a cluster follower's copy of the leader's (cluster/replica.ts) — which must
   * be the next one: a gap or a repeat is the caller's to heal (`resetTo` after a snapshot), never stored.
   */
  appendSequenced(event: DomainEvent): DomainEvent {
    if (event.seq !== this.last + 1) throw new Error(`event ${event.seq} does not follow ${this.last}`)
    return this.store(event)
  }

  /**
   * Forgets every event and goes on from `seq`: a new leader continuing the cluster's numbering, a follower
   * that took a snapshot. Nothing before `seq` can be replayed from here on.
   */
  resetTo(seq: number): void {
    this.ring.fill(undefined)
    this.retained.fill(0)
    this.bytes = 0
    this.last = seq
    this.first = seq + 1
  }

  private store(sequenced: DomainEvent): DomainEvent {
    this.last = sequenced.seq
    const slot = sequenced.seq % this.capacity
    if (this.last - this.first >= this.capacity) this.evictOldest()
    this.ring[slot] = sequenced
    this.retained[slot] = retainedBytes(sequenced)
    this.bytes += this.retained[slot]
    while (this.bytes > this.maxBytes && this.first < this.last) this.evictOldest()
    for (const listener of this.listeners) listener(sequenced)
    return sequenced
  }

  private evictOldest(): void {
    const slot = this.first % this.capacity
    this.bytes -= this.retained[slot]!
    this.retained[slot] = 0
    this.ring[slot] = undefined
    this.first++
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Events after `sinceSeq`, oldest first; null when some of them have
   * already left the buffer, or when together they would encode to more than
   * `maxBytes` (a snapshot is then the cheaper answer: the caller sends one).
   */
  since(sinceSeq: number, maxBytes = Infinity): DomainEvent[] | null {
    if (sinceSeq > this.last) return null
    if (sinceSeq + 1 < this.first) return null
    const events: DomainEvent[] = []
    let bytes = 0
    for (let seq = sinceSeq + 1; seq <= this.last; seq++) {
      const event = this.ring[seq % this.capacity]
      if (event?.seq !== seq) return null
      if (maxBytes !== Infinity) {
        bytes += encodedSize(event)
        if (bytes > maxBytes) return null
      }
      events.push(event)
    }
    return events
  }
}
