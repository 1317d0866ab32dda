/**
 * Cluster mode's public shapes (`GET /api/cluster`, `/healthz`'s `node`):
 * several nodes on one Redis and one PostgreSQL, one of them the leader that
 * runs the coordinator (docs/cluster.md). A single node answers the same
 * shapes, as the one leader of a cluster of one.
 */

export type NodeRole = 'leader' | 'follower'

/** One node as it last reported itself through Redis (about once a second). */
export interface ClusterNode {
  id: string
  role: NodeRole
  /** Where the other nodes reach it: its own listening URL. */
  url: string
  /** Dashboard sockets connected to it now. */
  viewers: number
  /** Agent sockets connected to it now. */
  agents: number
  startedAt: number
  /** When it last reported (epoch ms); a node silent for 5 s is `gone` and leaves the list after a minute. */
  lastSeenAt: number
  gone: boolean
  /** The last event seq it has (leader: written; follower: applied). */
  seq: number
  /**
   * Events the leader has written that this node has not applied yet (0 for
   * the leader): the leader's seq as it last reported it, past this node's —
   * a lower bound, up to a second behind.
   */
  lag: number
  /**
   * The leader's fencing term as this node knew it when it reported (a
   * leader's: its own). Of two nodes both still reporting `leader` — a
   * demoted one not yet gone — the higher term is the leader.
   */
  term: number
}

/** `GET /api/cluster` (viewer token). */
export interface ClusterInfo {
  mode: 'single' | 'cluster'
  /** The node that answered. */
  node: string
  /** The leader's node id; null while there is none (an election under way). */
  leader: string | null
  /** Changes when Redis loses its data: a viewer holding another epoch resyncs by snapshot. */
  epoch: string
  /** The leader's fencing term: raised by one at every change of leader (stored in PostgreSQL). */
  term: number
  nodes: ClusterNode[]
  /**
   * null while this node reaches Redis and PostgreSQL (always, in single
   * mode); otherwise what it cannot reach, and then `nodes` holds this node
   * alone and `leader`/`term` are as it last knew them.
   */
  error: string | null
}

/** `/healthz`'s `node`: which node answered and its role now. */
export interface NodeHealth {
  id: string
  role: NodeRole
}
