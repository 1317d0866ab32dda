/**
 * A follower's side of the cluster's event stream: tails the leader's Redis
 * Stream from the last seq it has (XREAD BLOCK, ids are seqs), hands on the
 * events in order, and takes a snapshot instead whenever the numbering does
 * not follow — at start, after a gap (events trimmed away, or never written
 * while Redis was down), after a garbled entry, or when told to (a new
 * epoch). It never applies an event that does not follow the one before.
 */
import type { DomainEvent } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import type { Logger } from '../logger'
import { CLUSTER_KEYS, reconnectDelay, type RedisConnection } from './redis'

export interface StreamReaderOptions {
  logger: Logger
  /** A snapshot replaces everything held: the events that follow apply to it. */
  reset(snapshot: Snapshot): void
  /** Events in seq order, the first following the last one handed on (or the snapshot). */
  apply(events: DomainEvent[]): void
  /** How long one XREAD waits for new events, ms. */
  blockMs?: number
  /** How long to wait for the leader to answer a snapshot request before asking again, ms. */
  snapshotWaitMs?: number
  /** How long the stream may stay claimed by another leader without an entry before a snapshot is taken, ms. */
  quietLeaderMs?: number
  /** The seq and term held, to read on from (a reader replaced in a running follower); default: a snapshot first. */
  after?: { seq: number; term: number }
}

const READ_COUNT = 1_000
const SNAPSHOT_POLL_MS = 50

export class StreamReader {
  /** The seq of the last event handed on (or of the snapshot); -1 before the first snapshot. */
  private last = -1
  /** The term of the leader whose swarm is held (its snapshot's, then its entries'). */
  private term = 0
  /** Since when the stream's term has differed from the held one at every idle read; null: it has not. */
  private otherTermSince: number | null = null
  /** A snapshot is needed, at least this recent (its seq), of the leader that holds the stream now; null: none. */
  private needed: { seq: number } | null = { seq: 0 }
  private stopped = false
  private failures = 0
  private loop: Promise<void> = Promise.resolve()

  constructor(
    /** A connection of its own: XREAD BLOCK holds it. */
    private readonly blocking: RedisConnection,
    /** For the snapshot's GET and request. */
    private readonly control: RedisConnection,
    private readonly options: StreamReaderOptions,
  ) {
    if (options.after !== undefined) {
      this.last = options.after.seq
      this.term = options.after.term
      this.needed = null
    }
  }

  get seq(): number {
    return Math.max(0, this.last)
  }

  start(): void {
    this.loop = this.run()
  }

  /** Takes a fresh snapshot before anything else (the cluster's epoch changed). */
  resync(): void {
    this.needed = { seq: 0 }
  }

  async stop(): Promise<void> {
    this.stopped = true
    // Ends a pending XREAD BLOCK now rather than at its timeout.
    this.blocking.destroy()
    await this.loop
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.needed !== null) await this.takeSnapshot(this.needed)
        else await this.readEvents()
        this.failures = 0
      } catch (error) {
        if (this.stopped) return
        if (this.failures++ === 0) this.options.logger.warn({ err: error }, 'cluster stream: cannot read from Redis')
        await sleep(reconnectDelay(this.failures))
      }
    }
  }

  private async readEvents(): Promise<void> {
    const reply = await this.blocking.xRead(
      { key: CLUSTER_KEYS.events, id: `${this.last}-0` },
      { BLOCK: this.options.blockMs ?? 1_000, COUNT: READ_COUNT },
    )
    const messages = streamMessages(reply)
    if (messages.length === 0) return this.checkTerm()
    const events: DomainEvent[] = []
    for (const { id, message } of messages) {
      const event = parseEvent(message.e)
      const term = Number(message.t)
      const expected = this.last + events.length + 1
      const follows = event?.seq === expected && id === `${expected}-0` && Number.isInteger(term)
      // Another leader's first entry follows on unless it says otherwise (`r`): it told its takeover as events.
      if (follows && (term === this.term || message.r !== '1')) {
        this.term = term
        events.push(event)
        continue
      }
      // A gap, a garbled entry, or another leader (its swarm rebuilt from the history): what is held cannot lead
      // to what comes; a snapshot at least as recent, of the leader that holds the stream now, can.
      const seq = event?.seq ?? Number.parseInt(id, 10)
      const why = term !== this.term ? 'another leader' : 'a gap in the events'
      this.options.logger.info({ have: expected - 1, next: seq, term }, `cluster stream: ${why}; taking a snapshot`)
      this.needed = { seq: Number.isFinite(seq) ? seq - 1 : this.last + 1 }
      break
    }
    if (events.length === 0) return
    this.last = events[events.length - 1]!.seq
    this.options.apply(events)
  }

  /**
   * No new entry for a while: a leader that took over and has written nothing yet shows in the stream's term
   * (it claimed it) before its first entry. Another term than the one held: take that leader's snapshot now.
   */
  private async checkTerm(): Promise<void> {
    const current = await this.currentTerm()
    if (current === this.term) {
      this.otherTermSince = null
      return
    }
    // At first, a leader taking over (rebuilding from the history), its first entry on the way; for longer, a
    // leader with nothing to say.
    const now = Date.now()
    this.otherTermSince ??= now
    if (now - this.otherTermSince < (this.options.quietLeaderMs ?? 5_000)) return
    this.otherTermSince = null
    this.options.logger.info({ term: current, held: this.term }, 'cluster stream: another leader; taking a snapshot')
    this.needed = { seq: this.last }
  }

  private async currentTerm(): Promise<number> {
    const term = Number(await this.control.get(CLUSTER_KEYS.term))
    return Number.isInteger(term) ? term : 0
  }

  /**
   * Takes the stored snapshot if it is at least as recent as `atLeast` and written by the leader that holds the
   * stream now (its term is the stream's); else asks that leader for one (again every `snapshotWaitMs`, a request
   * expiring by then) and waits for it. A stored one older than the stream still holds shows as a gap on the next
   * read, which asks for a newer one.
   */
  private async takeSnapshot(atLeast: { seq: number }): Promise<void> {
    const waitMs = this.options.snapshotWaitMs ?? 5_000
    let askedAt = Number.NEGATIVE_INFINITY
    while (!this.stopped) {
      const stored = parseStored(await this.control.get(CLUSTER_KEYS.snapshot))
      const current = stored ? await this.currentTerm() : -1
      if (stored && stored.snapshot.seq >= atLeast.seq && stored.term === current) return this.take(stored)
      if (Date.now() - askedAt >= waitMs) {
        const expiration = { type: 'PX', value: waitMs } as const
        await this.control.set(CLUSTER_KEYS.snapshotWanted, String(atLeast.seq), { expiration })
        askedAt = Date.now()
      }
      await sleep(SNAPSHOT_POLL_MS)
    }
  }

  private take({ term, snapshot }: StoredSnapshot): void {
    this.last = snapshot.seq
    this.term = term
    this.needed = null
    this.options.reset(snapshot)
  }
}

type StreamMessage = { id: string; message: Record<string, string> }

/** XREAD's reply for our one stream, as its list of entries (node-redis shapes it per RESP version). */
function streamMessages(reply: unknown): StreamMessage[] {
  if (!Array.isArray(reply) || reply.length === 0) return []
  const stream = reply[0] as { messages?: StreamMessage[] }
  return stream.messages ?? []
}

/** An entry's event, or null when it is not one. */
export function parseEvent(json: string | undefined): DomainEvent | null {
  if (json === undefined) return null
  try {
    const event = JSON.parse(json) as DomainEvent
    return typeof event === 'object' && event !== null && Number.isInteger(event.seq) ? event : null
  } catch {
    return null
  }
}

interface StoredSnapshot {
  term: number
  snapshot: Snapshot
}

function parseStored(json: string | null): StoredSnapshot | null {
  if (json === null) return null
  try {
    const stored = JSON.parse(json) as StoredSnapshot
    const { term, snapshot } = stored
    return Number.isInteger(term) && Number.isInteger(snapshot?.seq) && Array.isArray(snapshot.tasks) ? stored : null
  } catch {
    return null
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
