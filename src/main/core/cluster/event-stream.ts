/**
 * The leader's side of the cluster's event stream (docs/cluster.md): every
 * sequenced event goes into one Redis Stream under its own `seq` as the entry
 * id (`<seq>-0`), so ids are the cluster's dense numbering and a follower
 * can ask for "everything after seq N" in one XREAD. Writes are fenced: a
 * Lua script appends a tick's events only while the term in Redis is not
 * above the writer's (a newer leader raised it), so a leader that lost its
 * lock and does not know yet cannot write after its successor began.
 *
 * Snapshots for followers are written on request (`swarm:snapshot:wanted`)
 * and when a leader takes over, after the events they cover, on the same
 * connection: a follower that reads snapshot `S` finds event `S + 1` in the
 * stream, or a gap it can see. Entries and snapshots carry their leader's
 * term: a new leader's swarm was rebuilt from the history, not from the
 * events before it, so a follower seeing a higher term takes a snapshot of
 * that term before applying anything from it.
 */
import type { DomainEvent } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import type { Logger } from '../logger'
import { CLUSTER_KEYS, type RedisConnection } from './redis'

/**
 * Sets the term to the writer's and answers the newest seq in the stream (0: empty). Only the holder of the
 * leader lock claims, just after raising the term in PostgreSQL, so its term is the newest there: a higher one
 * in Redis is left from another lifetime (a database restored from a backup, a Redis shared with an old
 * cluster) and is overwritten — else that cluster could never lead again.
 */
const CLAIM = `
redis.call('SET', KEYS[2], ARGV[1])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #top == 0 then return 0 end
return tonumber(string.match(top[1][1], '^(%d+)'))
`

/**
 * Appends events (id, json pairs from ARGV[4]), trimming to about ARGV[2] entries, unless a newer term is in
 * Redis; the entry whose id is ARGV[3] is marked `r`: followers take a snapshot before it.
 */
const APPEND = `
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current > tonumber(ARGV[1]) then return redis.error_reply('FENCED term ' .. current) end
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[2], ARGV[1]) end
for i = 4, #ARGV, 2 do
  if ARGV[i] == ARGV[3] then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], ARGV[i], 't', ARGV[1], 'r', '1', 'e', ARGV[i + 1])
  else
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], ARGV[i], 't', ARGV[1], 'e', ARGV[i + 1])
  end
end
return (#ARGV - 3) / 2
`

/**
 * Stores a snapshot for followers, unless a newer term is in Redis (then raised to the writer's if lower: Redis
 * came back empty); clears the request it answers.
 */
const SNAPSHOT = `
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current > tonumber(ARGV[1]) then return redis.error_reply('FENCED term ' .. current) end
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[2], ARGV[1]) end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[3])
return 1
`

export interface StreamWriterOptions {
  /** This leader's fencing term (cluster/leadership.ts). */
  term: number
  /** The whole state at the current seq, everything before it handed to `push` first. */
  snapshot(): Snapshot
  logger: Logger
  /** Entries the stream keeps, about (XADD MAXLEN ~): how far back a follower or a viewer can catch up. */
  maxLength?: number
  /** How often the writer looks for snapshot requests, ms. */
  snapshotCheckMs?: number
  /** A newer leader wrote first: this one must stop leading (the core exits). */
  fenced(message: string): void
}

export const DEFAULT_STREAM_LENGTH = 100_000
/** Events in one fenced append; a tick with more sends several. */
const APPEND_CHUNK = 500

export class StreamWriter {
  private pending: DomainEvent[] = []
  private flushing: Promise<void> = Promise.resolve()
  private scheduled = false
  private timer: NodeJS.Timeout | null = null
  private failing = false
  private stopped = false
  /** The next event written is marked `r` (followers take a snapshot before it); set by `requireSnapshot`. */
  private resetNext = false

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: StreamWriterOptions,
  ) {}

  /** Takes the stream for this term; resolves with the seq to go on from (the newest in the stream, 0 if empty). */
  async claim(): Promise<number> {
    const keys = [CLUSTER_KEYS.events, CLUSTER_KEYS.term]
    return Number(await this.redis.eval(CLAIM, { keys, arguments: [String(this.options.term)] }))
  }

  start(): void {
    const every = this.options.snapshotCheckMs ?? 200
    this.timer = setInterval(() => void this.answerSnapshotRequest(), every)
    this.timer.unref()
  }

  /**
   * Followers must take a snapshot before the next event: this leader's swarm does not follow from what they hold
   * (cluster-role.ts, when the takeover cannot be told as events).
   */
  requireSnapshot(): void {
    this.resetNext = true
  }

  push(event: DomainEvent): void {
    if (this.stopped) return
    this.pending.push(event)
    if (this.scheduled) return
    this.scheduled = true
    // One round trip per tick, whatever the number of events in it.
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  /** Writes what is pending, in order, after what is already being written. */
  flush(): Promise<void> {
    const events = this.pending
    this.pending = []
    if (events.length === 0) return this.flushing
    this.flushing = this.flushing.then(() => this.append(events))
    return this.flushing
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await this.flush()
  }

  private async append(events: DomainEvent[]): Promise<void> {
    const keys = [CLUSTER_KEYS.events, CLUSTER_KEYS.term]
    const head = [String(this.options.term), String(this.options.maxLength ?? DEFAULT_STREAM_LENGTH)]
    const reset = this.resetNext && events.length > 0 ? `${events[0]!.seq}-0` : ''
    this.resetNext &&= events.length === 0
    for (let start = 0; start < events.length; start += APPEND_CHUNK) {
      const args = [...head, reset]
      for (const event of events.slice(start, start + APPEND_CHUNK)) args.push(`${event.seq}-0`, JSON.stringify(event))
      if (!(await this.run(APPEND, keys, args, events.length))) return
    }
  }

  private async answerSnapshotRequest(): Promise<void> {
    try {
      if ((await this.redis.exists(CLUSTER_KEYS.snapshotWanted)) === 0) return
      await this.publishSnapshot()
    } catch (error) {
      this.failed(error, 0)
    }
  }

  /** Stores a snapshot of now for followers (`{ term, snapshot }`), after every event it covers. */
  async publishSnapshot(): Promise<void> {
    const snapshot = this.options.snapshot()
    await this.flush()
    const { term } = this.options
    const stored = `{"term":${term},"snapshot":${JSON.stringify(snapshot)}}`
    const keys = [CLUSTER_KEYS.snapshot, CLUSTER_KEYS.term, CLUSTER_KEYS.snapshotWanted]
    await this.run(SNAPSHOT, keys, [String(term), stored], 0)
  }

  /** Runs a fenced script; false when it did not write (fenced or Redis failing: logged once per outage). */
  private async run(script: string, keys: string[], args: string[], events: number): Promise<boolean> {
    try {
      await this.redis.eval(script, { keys, arguments: args })
      if (this.failing) this.options.logger.info('cluster stream: writing to Redis again')
      this.failing = false
      return true
    } catch (error) {
      this.failed(error, events)
      return false
    }
  }

  private failed(error: unknown, events: number): void {
    const message = error instanceof Error ? error.message : String(error)
    if (message.includes('FENCED')) {
      this.stopped = true
      this.options.fenced(`a newer leader writes the cluster's events (${message})`)
      return
    }
    // Followers see the gap these events leave and take a snapshot; this node's own viewers lose nothing.
    if (!this.failing)
      this.options.logger.error({ err: error, events }, 'cluster stream: cannot write to Redis; followers will resync')
    this.failing = true
  }
}
