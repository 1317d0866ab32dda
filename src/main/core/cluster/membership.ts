/**
 * Membership: who the nodes are, who leads, and the epoch — behind one
 * interface whether the server runs alone (the default, `singleNode`) or in
 * a cluster (`--redis`: `RedisMembership` over `Leadership`);
 * `create-membership.ts` picks one from the config. The core exposes it as
 * `core.cluster`; nothing here changes what the core does by role.
 */
import { randomUUID } from 'node:crypto'
import type { ClusterInfo, ClusterNode, NodeRole } from '../../../shared/cluster'
import type { LeadershipChange } from './leadership'

/** This node's figures, read at each report (about once a second) and for every `info()`. */
export interface NodeLoad {
  /** Where the other nodes reach it ('' before it listens). */
  url: string
  viewers: number
  agents: number
  seq: number
  lag: number
}

export interface Membership {
  readonly mode: 'single' | 'cluster'
  readonly nodeId: string
  role(): NodeRole
  /** The leader's fencing term as this node knows it (0 in single mode). */
  term(): number
  /** The current epoch; '' until a cluster node has first read it from Redis. */
  epoch(): string
  info(): Promise<ClusterInfo>
  /**
   * The leader's URL as last reported (this node's own when it leads); with Redis away or emptied, the URL last
   * seen of the node PostgreSQL names as leader; null while no leader is known.
   */
  leaderUrl(): string | null
  /**
   * The last seq the leader reported (about once a second), for a follower's
   * lag; null while this node leads or no leader is known.
   */
  leaderSeq(): number | null
  /** Told when the epoch changes (`previous` null: the first one this node learnt). Returns the unsubscribe. */
  onEpoch(listener: (epoch: string, previous: string | null) => void): () => void
  /**
   * Told when this node's role changes. Role 'follower' after leading means
   * it lost its session: the core exits (crash-only; leadership.ts). Never
   * fires in single mode, nor on `stop()`.
   */
  onRole(listener: (change: LeadershipChange) => void): () => void
  /** Resolves once the first leadership attempt and report are done (bounded even with Redis or PostgreSQL away). */
  start(): Promise<void>
  /** Stops reporting (the node shows as gone at once) and releases the leader lock. */
  stop(): Promise<void>
}

export type { LeadershipChange }

/**
 * A follower's events not applied yet (`NodeLoad.lag`): the leader's seq as
 * it last reported it (about once a second) past `seq`, this node's. So a
 * lower bound: events the leader wrote since its report are not counted.
 * 0 for the leader, and while no leader is known.
 */
export function lagBehindLeader(membership: Pick<Membership, 'role' | 'leaderSeq'>, seq: number): number {
  if (membership.role() === 'leader') return 0
  const leaderSeq = membership.leaderSeq()
  return leaderSeq === null ? 0 : Math.max(0, leaderSeq - seq)
}

/** The default: a cluster of one, its own leader, a new epoch at every start (so viewers of a previous run resync). */
export function singleNode(options: { nodeId: string; load: () => NodeLoad; now?: () => number }): Membership {
  const epoch = randomUUID()
  const now = options.now ?? Date.now
  const startedAt = now()
  return {
    mode: 'single',
    nodeId: options.nodeId,
    role: () => 'leader',
    term: () => 0,
    epoch: () => epoch,
    async info() {
      const at = now()
      const self: ClusterNode = {
        ...options.load(),
        id: options.nodeId,
        role: 'leader',
        term: 0,
        startedAt,
        lastSeenAt: at,
        gone: false,
      }
      return {
        mode: 'single',
        node: options.nodeId,
        leader: options.nodeId,
        epoch,
        term: 0,
        nodes: [self],
        error: null,
      }
    },
    leaderUrl: () => options.load().url || null,
    leaderSeq: () => null,
    onEpoch: () => () => {},
    onRole: () => () => {},
    async start() {},
    async stop() {},
  }
}
