/**
 * Cluster membership through Redis. Every `reportMs` each node writes itself
 * into the hash `swarm:nodes` (field: its id; value: its ClusterNode as JSON,
 * without `gone`), reads the hash back, and reads the epoch. A node silent
 * for `goneAfterMs` is gone; one silent for `forgetAfterMs` is deleted by
 * whichever node notices. `info()` answers from the last read, so however
 * often it is asked, Redis sees one read a second per node.
 *
 * The epoch (`swarm:epoch`) names Redis's current data: a UUID set with
 * `SET NX`, so when Redis comes back empty the first node to notice sets a
 * new one and every other node reads that same one; `onEpoch` then fires on
 * each of them.
 *
 * Redis unreachable: logged once, the client reconnects with a bounded
 * backoff, `info()` says so in `error` — nothing throws.
 */
import { randomUUID } from 'node:crypto'
import { createClient } from '@redis/client'
import type { ClusterInfo, ClusterNode, NodeRole } from '../../../shared/cluster'
import type { Logger } from '../logger'
import { withDeadline } from './deadline'
import { parseNode, type StoredNode } from './node-record'
import type { Leadership, LeadershipChange } from './leadership'
import type { Membership, NodeLoad } from './membership'

export interface RedisMembershipOptions {
  /** redis://… or rediss://… */
  url: string
  nodeId: string
  leadership: Leadership
  logger: Logger
  load: () => NodeLoad
  /** How often this node reports itself and reads the others and the epoch (default 1,000 ms). */
  reportMs?: number
  /** Silence after which a node is `gone` (default 5,000 ms). */
  goneAfterMs?: number
  /** Silence after which a node is deleted from the hash (default 60,000 ms). */
  forgetAfterMs?: number
  /** How long one report may take before Redis counts as unreachable (default 1,500 ms). */
  commandTimeoutMs?: number
  /** Key prefix (default 'swarm:'): the hash is `<prefix>nodes`, the epoch `<prefix>epoch`. */
  prefix?: string
  now?: () => number
}

export const DEFAULT_REPORT_MS = 1_000
export const DEFAULT_GONE_AFTER_MS = 5_000
export const DEFAULT_FORGET_AFTER_MS = 60_000
/** The longest wait between reconnection attempts: a restarted Redis is back in use within this. */
const MAX_RECONNECT_MS = 2_000
/** How long `start()` waits for Redis before answering without it. */
const START_WAIT_MS = 2_000

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

export class RedisMembership implements Membership {
  readonly mode = 'cluster'
  readonly nodeId: string
  private readonly client: ReturnType<typeof createClient>
  private readonly reportMs: number
  private readonly goneAfterMs: number
  private readonly forgetAfterMs: number
  private readonly commandTimeoutMs: number
  private readonly nodesKey: string
  private readonly epochKey: string
  private readonly now: () => number
  private readonly startedAt: number
  private readonly epochListeners = new Set<(epoch: string, previous: string | null) => void>()
  private current = ''
  /** The others as last read; null before the first read. */
  private seen: StoredNode[] | null = null
  /** Every node's URL as last read, kept while Redis is away or emptied: PostgreSQL still names the leader. */
  private readonly addresses = new Map<string, string>()
  private redisError: string | null = null
  private running = false
  private timer: NodeJS.Timeout | null = null
  private reporting: Promise<void> | null = null

  constructor(private readonly options: RedisMembershipOptions) {
    this.nodeId = options.nodeId
    this.reportMs = options.reportMs ?? DEFAULT_REPORT_MS
    this.goneAfterMs = options.goneAfterMs ?? DEFAULT_GONE_AFTER_MS
    this.forgetAfterMs = options.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_500
    const prefix = options.prefix ?? 'swarm:'
    this.nodesKey = `${prefix}nodes`
    this.epochKey = `${prefix}epoch`
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.client = createClient({
      url: options.url,
      // A command while Redis is away fails at once instead of queueing behind the outage.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2_000,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_MS),
      },
    })
    // Fired at every failed attempt while Redis is away: one line per outage.
    this.client.on('error', (error: Error) => this.unreachable(error.message))
    // Back once a report has gone through (exchange), not at 'ready': info() then already holds the fresh read.
  }

  role(): NodeRole {
    return this.options.leadership.role()
  }

  term(): number {
    return this.options.leadership.term()
  }

  epoch(): string {
    return this.current
  }

  onEpoch(listener: (epoch: string, previous: string | null) => void): () => void {
    this.epochListeners.add(listener)
    return () => this.epochListeners.delete(listener)
  }

  onRole(listener: (change: LeadershipChange) => void): () => void {
    return this.options.leadership.onChange(listener)
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    // connect() resolves once Redis answers, and retries for ever while it does not: not awaited past START_WAIT_MS.
    const connected = this.client.connect().then(
      () => true,
      () => false,
    )
    await Promise.all([this.options.leadership.start(), Promise.race([connected, delay(START_WAIT_MS)])])
    await this.report()
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.reporting
    // The last word: gone at once for the others, rather than after `goneAfterMs` of silence.
    if (this.client.isReady) {
      const last = { ...this.record(this.now()), left: true }
      await this.bounded(this.client.hSet(this.nodesKey, this.nodeId, JSON.stringify(last))).catch(() => {})
    }
    this.client.destroy()
    await this.options.leadership.stop()
  }

  async info(): Promise<ClusterInfo> {
    const at = this.now()
    const self: ClusterNode = { ...this.record(at), gone: false }
    const leadership = this.options.leadership
    const error = [this.redisError, leadership.problem()].filter((problem) => problem !== null).join('; ') || null
    const others =
      this.redisError === null && this.seen
        ? this.seen.map(({ left, ...node }) => ({
            ...node,
            gone: left === true || at - node.lastSeenAt > this.goneAfterMs,
          }))
        : []
    const nodes = [self, ...others].sort((a, b) => a.id.localeCompare(b.id))
    return {
      mode: 'cluster',
      node: this.nodeId,
      leader: this.leaderOf(nodes),
      epoch: this.current,
      term: leadership.term(),
      nodes,
      error,
    }
  }

  leaderUrl(): string | null {
    if (this.role() === 'leader') return this.options.load().url || null
    const claim = this.otherLeader()
    if (claim?.url) return claim.url
    // Redis away, or back empty before the leader has reported again: the leader PostgreSQL names, where it was
    // last seen. When Redis holds that node's entry (not leading, stopped, silent), Redis knows better.
    const named = this.options.leadership.leader()
    const entry = this.redisError === null ? this.seen?.find((node) => node.id === named) : undefined
    return named === null || entry !== undefined ? null : (this.addresses.get(named) ?? null)
  }

  leaderSeq(): number | null {
    return this.role() === 'leader' ? null : (this.otherLeader()?.seq ?? null)
  }

  /** Of the other nodes still there claiming to lead, as last read, the one with the highest term. */
  private otherLeader(): StoredNode | null {
    const at = this.now()
    const claims = (this.redisError === null ? (this.seen ?? []) : [])
      .filter((node) => node.role === 'leader' && node.left !== true && at - node.lastSeenAt <= this.goneAfterMs)
      .sort((a, b) => b.term - a.term)
    return claims[0] ?? null
  }

  /** Itself when it leads; else, of the nodes still there claiming to lead, the one with the highest term. */
  private leaderOf(nodes: ClusterNode[]): string | null {
    if (this.role() === 'leader') return this.nodeId
    if (this.redisError !== null || this.seen === null) return this.options.leadership.leader()
    const claims = nodes.filter((node) => node.role === 'leader' && !node.gone).sort((a, b) => b.term - a.term)
    return claims[0]?.id ?? null
  }

  private record(at: number): StoredNode {
    const load = this.options.load()
    return {
      id: this.nodeId,
      role: this.role(),
      url: load.url,
      viewers: load.viewers,
      agents: load.agents,
      startedAt: this.startedAt,
      lastSeenAt: at,
      seq: load.seq,
      lag: load.lag,
      term: this.term(),
    }
  }

  /** One report, then the next one scheduled. Never rejects. */
  private report(): Promise<void> {
    this.timer = null
    const reporting = this.exchange()
      .catch((error: Error) => this.unreachable(error.message))
      .then(() => {
        if (this.running) this.timer = setTimeout(() => void this.report(), this.reportMs)
      })
    this.reporting = reporting
    return reporting
  }

  /** Writes this node, reads the others and the epoch; forgets long-silent nodes. */
  private async exchange(): Promise<void> {
    // Not yet connected, or reconnecting: said as such rather than listing this node alone as if all were well.
    if (!this.client.isReady) {
      // The client's own error, when it gave one, says more.
      if (this.redisError === null) this.unreachable('not connected')
      return
    }
    const at = this.now()
    const [, epoch, all] = await this.bounded(
      Promise.all([
        this.client.hSet(this.nodesKey, this.nodeId, JSON.stringify(this.record(at))),
        this.readEpoch(),
        this.client.hGetAll(this.nodesKey),
      ]),
    )
    const others: StoredNode[] = []
    const forget: string[] = []
    for (const [id, value] of Object.entries(all)) {
      if (id === this.nodeId) continue
      const node = parseNode(value)
      // Unreadable (another version, someone else's data) or silent too long: not listed, and deleted.
      if (!node || node.id !== id || at - node.lastSeenAt > this.forgetAfterMs) forget.push(id)
      else others.push(node)
      if (node?.id === id && node.url) this.addresses.set(id, node.url)
    }
    if (forget.length > 0) await this.bounded(this.client.hDel(this.nodesKey, forget))
    this.seen = others
    this.reachable()
    this.learn(epoch)
  }

  /** The epoch, or a new one when Redis has none (it lost its data): SET NX, so every node ends up with the same. */
  private async readEpoch(): Promise<string> {
    const found = await this.client.get(this.epochKey)
    if (found !== null) return found
    const proposed = randomUUID()
    if ((await this.client.set(this.epochKey, proposed, { condition: 'NX' })) === 'OK') return proposed
    const set = await this.client.get(this.epochKey)
    if (set === null) throw new Error(`${this.epochKey} vanished while being set`)
    return set
  }

  private learn(epoch: string): void {
    if (epoch === this.current) return
    const previous = this.current === '' ? null : this.current
    this.current = epoch
    this.options.logger.info({ node: this.nodeId, epoch, previous }, 'cluster: epoch')
    for (const listener of this.epochListeners) {
      try {
        listener(epoch, previous)
      } catch (error) {
        this.options.logger.error({ err: error }, 'cluster: an epoch listener failed')
      }
    }
  }

  private unreachable(message: string): void {
    if (this.redisError === null) {
      this.options.logger.warn({ node: this.nodeId, err: message }, 'cluster: cannot reach Redis; retrying')
    }
    this.redisError = `Redis unreachable: ${message || 'connection lost'}`
  }

  private reachable(): void {
    if (this.redisError === null) return
    this.redisError = null
    this.options.logger.info({ node: this.nodeId }, 'cluster: Redis is back')
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    const ms = this.commandTimeoutMs
    return withDeadline(promise, ms, () => new Error(`Redis did not answer within ${ms} ms`))
  }
}
