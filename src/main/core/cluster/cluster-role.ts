/**
 * What a cluster node does in its role (docs/cluster.md). Every node starts
 * as a follower: it tails the leader's event stream into a copy of the swarm
 * (replica.ts) and its viewers are sent that copy's snapshots and the
 * leader's events, under the leader's numbering. When the election makes it
 * the leader it stops reading, claims the stream for its term (continuing
 * the numbering where the stream ends), rebuilds the swarm from the history
 * like a server that restarts, starts what only the leader runs, publishes a
 * snapshot for the followers and resyncs its own viewers. A leader that
 * loses the election is deposed: it must stop (the core exits; its
 * supervisor starts it again as a follower) — it never goes back to
 * following with a coordinator that may still hold tasks.
 */
import type { NodeRole } from '../../../shared/cluster'
import type { Logger } from '../logger'
import type { EventLog } from '../pipeline/event-log'
import type { Fanout } from '../pipeline/fanout'
import type { SnapshotSource } from '../pipeline/pipeline'
import type { UnsequencedEvent } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import { StreamWriter } from './event-stream'
import { CLUSTER_KEYS, connectRedis, type RedisConnection } from './redis'
import { Replica } from './replica'
import { parseEvent, StreamReader } from './stream-reader'
import { takeoverEvents } from './takeover-diff'

/** Who leads: the election (membership.ts, leadership.ts) as this controller sees it. */
export interface Election {
  role(): NodeRole
  term(): number
  onRole(listener: (change: { role: NodeRole; term: number; reason: string }) => void): () => void
}

/** The parts of the pipeline a role change touches. */
export interface FollowedPipeline {
  readonly log: EventLog
  readonly fanout: Fanout
  snapshot(): Snapshot
  follow(copy: SnapshotSource): void
  lead(): void
  /** Rebuilds the swarm from the history (pipeline.takeOver); resolves with the ids the history held. */
  takeOver(): Promise<ReadonlySet<string>>
}

export interface ClusterRoleOptions {
  redisUrl: string
  /** This node's id, named in the alert it raises when it steps down. */
  nodeId: string
  logger: Logger
  pipeline: FollowedPipeline
  election: Election
  /** Starts what only the leader runs (agents, sampler, alerts, retention, schedules, the demo). */
  lead(storedIds: ReadonlySet<string>): void | Promise<void>
  /** This node was leader and is no more (or was fenced): it must stop now. */
  deposed(reason: string): void
  /** Entries the stream keeps (default 100,000). */
  streamLength?: number
  /** Test pace: how long one XREAD waits, how often the leader looks for snapshot requests. */
  blockMs?: number
  snapshotCheckMs?: number
}

export class ClusterRole {
  private readonly replica = new Replica()
  private control: RedisConnection | null = null
  private reader: StreamReader | null = null
  private writer: StreamWriter | null = null
  private unsubscribe: (() => void)[] = []
  private current: NodeRole = 'follower'
  /** Serializes role changes: an election result waits for the previous change to finish. */
  private changing: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(private readonly options: ClusterRoleOptions) {}

  get role(): NodeRole {
    return this.current
  }

  /** The last seq this node has: written (leader) or applied (follower). */
  get seq(): number {
    return this.options.pipeline.log.seq
  }

  /** Connects to Redis (rejects when it cannot), starts following, and acts on every election result after. */
  async start(): Promise<void> {
    const { options } = this
    this.control = await connectRedis(options.redisUrl, options.logger, 'cluster control')
    await this.follow()
    this.unsubscribe.push(options.election.onRole(({ role, term, reason }) => this.change(role, term, reason)))
    if (options.election.role() === 'leader') this.change('leader', options.election.term())
  }

  /** Takes a fresh snapshot of the leader's swarm (a new epoch); nothing to do while leading. */
  resync(): void {
    this.reader?.resync()
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe()
    await this.changing.catch(() => {})
    await this.reader?.stop()
    await this.writer?.stop()
    this.control?.destroy()
  }

  private change(role: NodeRole, term: number, reason?: string): void {
    this.changing = this.changing.then(async () => {
      if (this.stopped || role === this.current) return
      if (role === 'follower') return this.depose(reason ?? 'this node is no longer the leader')
      try {
        await this.promote(term)
      } catch (error) {
        // Half a leader is worse than none: stop, and let the election pick a node that can lead.
        this.options.logger.error({ err: error, term }, 'cluster: could not take over as leader')
        this.depose(`could not take over as leader: ${(error as Error).message}`)
      }
    })
  }

  private async follow(): Promise<void> {
    const { pipeline, logger, redisUrl } = this.options
    const { log, fanout } = pipeline
    pipeline.follow(this.replica)
    const blocking = await connectRedis(redisUrl, logger, 'cluster stream')
    this.reader = new StreamReader(blocking, this.control!, {
      logger,
      blockMs: this.options.blockMs,
      reset: (snapshot) => {
        this.replica.reset(snapshot)
        log.resetTo(snapshot.seq)
        fanout.resyncAll()
      },
      apply: (events) => {
        this.replica.apply(events)
        for (const event of events) log.appendSequenced(event)
      },
    })
    this.reader.start()
  }

  private async promote(term: number): Promise<void> {
    const { pipeline, logger } = this.options
    logger.info({ term }, 'cluster: this node is the leader now; taking over')
    await this.reader?.stop()
    this.reader = null
    this.current = 'leader'
    const writer = new StreamWriter(this.control!, {
      term,
      logger,
      snapshot: () => pipeline.snapshot(),
      maxLength: this.options.streamLength,
      snapshotCheckMs: this.options.snapshotCheckMs,
      fenced: (message) => {
        this.changing = this.changing.then(() => this.depose(message, true))
      },
    })
    this.writer = writer
    // The numbering goes on where the stream ends; the swarm is rebuilt from the history, as after a restart.
    const top = await writer.claim()
    const caughtUp = this.replica.ready && (await this.catchUp(top))
    pipeline.lead()
    if (!caughtUp) pipeline.log.resetTo(top)
    this.unsubscribe.push(pipeline.log.subscribe((event) => writer.push(event)))
    const storedIds = await pipeline.takeOver()
    // Told as events when they say it exactly (takeover-diff.ts): viewers everywhere go on, and resume by replay.
    const told = caughtUp ? takeoverEvents(this.replica.snapshot(), pipeline.snapshot(), Date.now()) : null
    if (told) for (const event of told) pipeline.log.append(event)
    else writer.requireSnapshot()
    await this.options.lead(storedIds)
    writer.start()
    await writer.publishSnapshot()
    if (!told) pipeline.fanout.resyncAll()
    logger.info({ term, seq: top, told: told?.length ?? null }, 'cluster: leading')
  }

  /**
   * Brings the copy (and this node's viewers) to the stream's last event before taking over, reading what the
   * reader had not yet; false when it cannot in order (a gap, an entry that asks for a snapshot).
   */
  private async catchUp(top: number): Promise<boolean> {
    const { log } = this.options.pipeline
    if (log.seq !== this.replica.seq) return false
    while (this.replica.seq < top) {
      const from = `${this.replica.seq + 1}-0`
      const entries = await this.control!.xRange(CLUSTER_KEYS.events, from, `${top}-0`, { COUNT: 1_000 })
      if (!entries || entries.length === 0) return false
      for (const { id, message } of entries) {
        const event = parseEvent(message.e)
        const expected = this.replica.seq + 1
        if (event?.seq !== expected || id !== `${expected}-0` || message.r === '1') return false
        this.replica.apply([event])
        log.appendSequenced(event)
      }
    }
    return this.replica.seq === top
  }

  private depose(reason: string, fenced = false): void {
    if (this.current !== 'leader') return
    this.current = 'follower'
    this.options.logger.error({ reason }, 'cluster: this node lost its leadership; it stops now')
    // Its last event, for every node's viewers, unless a newer leader writes the stream already (fenced): nobody
    // leads now, and nobody can until PostgreSQL answers. The next leader's snapshot no longer holds it.
    if (!fenced) this.options.pipeline.log.append(steppedDown(this.options.nodeId, reason))
    this.options.deposed(reason)
  }
}

/** The alert a leader leaves as it steps down: critical, unacknowledged, about the history that nobody writes now. */
function steppedDown(nodeId: string, reason: string): UnsequencedEvent {
  const at = Date.now()
  const message =
    `The cluster's leader ${nodeId} stepped down (${reason}): no node leads until one holds the leader lock in ` +
    'PostgreSQL again, and new tasks are refused (503) meanwhile'
  const alert = {
    id: `leader-stepped-down:${nodeId}:${at}`,
    rule: 'history-unavailable',
    severity: 'critical' as const,
  }
  return { type: 'alert', at, alert: { ...alert, message, at, agentId: null, taskId: null, acknowledged: false } }
}
