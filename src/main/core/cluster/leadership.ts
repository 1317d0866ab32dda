/**
 * Who leads the cluster: the node holding a PostgreSQL session-level advisory
 * lock on one dedicated connection. Each node tries for it every `checkMs`;
 * the one that gets it raises the fencing term in `swarm_cluster` (one row)
 * and leads while that session lives. PostgreSQL releases the lock the moment
 * the session ends — a clean stop, a crash, a `pg_terminate_backend`, or the
 * server's TCP keepalive giving up on a dead node (a few seconds, set low on
 * this session) — and the next node's attempt takes it.
 *
 * Crash-only: a leader that loses its session, or cannot confirm it within
 * `aliveTimeoutMs`, cannot know whether another node leads already, so it
 * demotes itself (`onChange` with role 'follower' and the reason) and the core
 * exits; its supervisor restarts it as a follower. A follower that cannot
 * reach PostgreSQL retries with a bounded backoff, for ever.
 *
 * The lock needs a session that stays one connection: behind PgBouncer, use
 * session pooling (transaction pooling would hand the lock to another client).
 */
import { Client } from 'pg'
import type { NodeRole } from '../../../shared/cluster'
import type { Logger } from '../logger'
import { withDeadline } from './deadline'
import { ensureClusterTable, LEADER_LOCK_KEY, readClusterRow, type ClusterRow } from './cluster-table'

export interface LeadershipChange {
  role: NodeRole
  /** The term this node led under (becoming leader: its new term). */
  term: number
  /** Why, in words for the log: 'acquired the leader lock', 'lost its PostgreSQL session: …'. */
  reason: string
}

export interface LeadershipOptions {
  /** postgres://… (the history's database: the lock and the term live there). */
  url: string
  nodeId: string
  logger: Logger
  /** How often a follower tries for the lock and a leader confirms its session (default 1,000 ms). */
  checkMs?: number
  /** How long a query may take before the session counts as lost (default 1,500 ms). */
  aliveTimeoutMs?: number
  /** The longest wait between reconnection attempts (default 5,000 ms). */
  maxBackoffMs?: number
  /**
   * A session that runs no query for this long is closed by PostgreSQL
   * (`idle_session_timeout`, PostgreSQL 14+), releasing the lock: a leader
   * whose process froze (SIGSTOP, an event loop blocked) still answers TCP
   * keepalives, so only this ends its reign (default 5,000 ms; at least
   * twice `checkMs`).
   */
  frozenAfterMs?: number
}

export const DEFAULT_CHECK_MS = 1_000
export const DEFAULT_ALIVE_TIMEOUT_MS = 1_500
const DEFAULT_MAX_BACKOFF_MS = 5_000
export const DEFAULT_FROZEN_AFTER_MS = 5_000
const CONNECT_TIMEOUT_MS = 5_000
/**
 * PostgreSQL's side of the session: probe after 2 s idle, every 1 s, give up
 * after 3 — a leader whose machine vanished loses the lock in about 5 s.
 */
const SERVER_KEEPALIVE = 'SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 3'

/** A reason that says it all (no 'lost its session' in front). */
class Untrusted extends Error {}

export class Leadership {
  private readonly checkMs: number
  private readonly aliveTimeoutMs: number
  private readonly maxBackoffMs: number
  private readonly frozenAfterMs: number
  private warnedOldServer = false
  private readonly listeners = new Set<(change: LeadershipChange) => void>()
  private client: Client | null = null
  private current: NodeRole = 'follower'
  private currentTerm = 0
  private leaderId: string | null = null
  private running = false
  private failures = 0
  private lastError: string | null = null
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null

  constructor(private readonly options: LeadershipOptions) {
    this.checkMs = options.checkMs ?? DEFAULT_CHECK_MS
    this.aliveTimeoutMs = options.aliveTimeoutMs ?? DEFAULT_ALIVE_TIMEOUT_MS
    this.maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS
    this.frozenAfterMs = Math.max(options.frozenAfterMs ?? DEFAULT_FROZEN_AFTER_MS, 2 * this.checkMs)
  }

  role(): NodeRole {
    return this.current
  }

  /** The leader's term as this node last saw it in PostgreSQL (its own while it leads); 0 before it read one. */
  term(): number {
    return this.currentTerm
  }

  /** The leader named in PostgreSQL as this node last read it (null: none, or released by a clean stop). */
  leader(): string | null {
    return this.current === 'leader' ? this.options.nodeId : this.leaderId
  }

  /** Why this node cannot reach PostgreSQL now (null: it can). */
  problem(): string | null {
    return this.lastError === null ? null : `PostgreSQL unreachable: ${this.lastError}`
  }

  /** Told of every change of this node's role; returns the unsubscribe. */
  onChange(listener: (change: LeadershipChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Makes the first attempt (so the role is known when this resolves, PostgreSQL willing), then one every `checkMs`. */
  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    await this.runTick()
  }

  /** Releases the lock (a leader clears its name too), so another node takes over at its next attempt. No event. */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.ticking
    const client = this.client
    this.client = null
    if (client) {
      if (this.current === 'leader') {
        await this.bounded(
          client.query('UPDATE swarm_cluster SET leader = NULL WHERE id = 1 AND term = $1', [this.currentTerm]),
        ).catch(() => {})
      }
      // Ending the session releases the lock whatever state it is in; bounded, as PostgreSQL may be the one gone.
      await this.bounded(client.end()).catch(() => {})
    }
    this.current = 'follower'
  }

  private runTick(): Promise<void> {
    this.timer = null
    const tick = this.tick().then((delay) => {
      if (this.running) this.timer = setTimeout(() => void this.runTick(), delay)
    })
    this.ticking = tick
    return tick
  }

  /** One attempt or confirmation; resolves with the wait before the next. Never rejects. */
  private async tick(): Promise<number> {
    try {
      const client = this.client ?? (await this.connect())
      if (this.current === 'leader') await this.confirm(client)
      else await this.contend(client)
      if (this.failures > 0) this.options.logger.info({ node: this.options.nodeId }, 'cluster: PostgreSQL is back')
      this.failures = 0
      this.lastError = null
      return this.checkMs
    } catch (error) {
      this.drop(error as Error)
      this.lastError = (error as Error).message
      this.failures++
      if (this.failures === 1) {
        this.options.logger.warn(
          { node: this.options.nodeId, err: error },
          'cluster: cannot reach PostgreSQL for the leader lock; retrying with backoff',
        )
      }
      return Math.min(this.checkMs * 2 ** this.failures, this.maxBackoffMs)
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.options.url,
      // Our side of the session: a leader on a dead link finds out in seconds, not at the OS default's hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: `swarm-monitor leader lock ${this.options.nodeId}`.slice(0, 63),
    })
    // A session that ends while idle (terminated, server stopped) is reported here, not by a query.
    client.on('error', (error) => {
      if (client === this.client) this.drop(error)
    })
    try {
      await client.connect()
      await this.bounded(client.query(SERVER_KEEPALIVE))
      await this.bounded(client.query(`SET idle_session_timeout = ${Math.round(this.frozenAfterMs)}`)).catch(
        (error: Error & { code?: string }) => {
          // 42704, unrecognized parameter: before PostgreSQL 14 everything else works, but a frozen leader keeps the lock.
          if (error.code !== '42704') throw error
          if (!this.warnedOldServer) {
            this.options.logger.warn(
              { err: error },
              'cluster: this PostgreSQL has no idle_session_timeout (14+): a frozen leader keeps the lock until its process ends',
            )
          }
          this.warnedOldServer = true
        },
      )
      await this.bounded(ensureClusterTable(client))
    } catch (error) {
      void client.end().catch(() => {})
      throw error
    }
    this.client = client
    return client
  }

  /** A follower's attempt: the lock, and the row as it stands (who leads, under which term). */
  private async contend(client: Client): Promise<void> {
    const result = await this.bounded(
      client.query(
        'SELECT pg_try_advisory_lock($1::bigint) AS got, term::text AS term, leader FROM swarm_cluster WHERE id = 1',
        [LEADER_LOCK_KEY],
      ),
    )
    const got = (result.rows[0] as { got?: unknown } | undefined)?.got === true
    this.remember(readClusterRow(result.rows))
    if (!got || !this.running) {
      // Stopped while asking: a lock won then is released with the session by stop().
      return
    }
    const raised = await this.bounded(
      client.query(
        'UPDATE swarm_cluster SET term = term + 1, leader = $1, since = now() WHERE id = 1 RETURNING term::text AS term, leader',
        [this.options.nodeId],
      ),
    )
    const row = readClusterRow(raised.rows)
    this.current = 'leader'
    this.currentTerm = row.term
    this.leaderId = this.options.nodeId
    this.options.logger.info({ node: this.options.nodeId, term: row.term }, 'cluster: this node leads')
    this.emit({ role: 'leader', term: row.term, reason: 'acquired the leader lock' })
  }

  /** A leader's check: its session answers in time and nobody has raised the term past it. */
  private async confirm(client: Client): Promise<void> {
    const result = await this.bounded(client.query('SELECT term::text AS term, leader FROM swarm_cluster WHERE id = 1'))
    const row = readClusterRow(result.rows)
    if (row.term !== this.currentTerm) {
      throw new Untrusted(`another node raised the term to ${row.term}, past this leader's ${this.currentTerm}`)
    }
  }

  private remember(row: ClusterRow): void {
    this.currentTerm = row.term
    this.leaderId = row.leader
  }

  /** The session is gone or untrusted: close it (which releases any lock) and, leading, step down. */
  private drop(error: Error): void {
    const client = this.client
    this.client = null
    if (client) void client.end().catch(() => {})
    if (this.current !== 'leader') return
    this.current = 'follower'
    const cause = error instanceof Untrusted ? error.message : `lost its PostgreSQL session: ${error.message}`
    this.options.logger.error({ node: this.options.nodeId, term: this.currentTerm }, `cluster: demoted: ${cause}`)
    this.emit({ role: 'follower', term: this.currentTerm, reason: cause })
  }

  private emit(change: LeadershipChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (error) {
        this.options.logger.error({ err: error }, 'cluster: a leadership listener failed')
      }
    }
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    const ms = this.aliveTimeoutMs
    return withDeadline(promise, ms, () => new Untrusted(`PostgreSQL did not answer within ${ms} ms`))
  }
}
