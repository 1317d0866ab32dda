/**
 * The Cluster view's logic apart from Vue and the network, so it can be
 * tested on a real server's answers: checking `GET /api/cluster` and
 * `/healthz`, each node's recent load, and the rows the table shows.
 */
import type { ClusterInfo, ClusterNode, NodeHealth } from '../../../shared/cluster'

/** How often the view asks `GET /api/cluster` while it is shown. */
export const CLUSTER_POLL_MS = 2_000
/** Load points kept per node for its sparkline: two minutes at one every 2 s. */
export const LOAD_POINTS = 60

export interface LoadPoint {
  at: number
  viewers: number
  agents: number
}

/** Each node's recent viewers and agents, oldest first, by node id. */
export type LoadHistory = Readonly<Record<string, readonly LoadPoint[]>>

export interface ClusterRow extends ClusterNode {
  /** The node that answered: the one this page's requests reach. */
  self: boolean
  /** The node `leader` names (a node reporting `leader` but not named, a demoted one, is not it). */
  leading: boolean
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0

function isNode(value: unknown): value is ClusterNode {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    (value.role === 'leader' || value.role === 'follower') &&
    typeof value.url === 'string' &&
    isCount(value.viewers) &&
    isCount(value.agents) &&
    isCount(value.startedAt) &&
    isCount(value.lastSeenAt) &&
    typeof value.gone === 'boolean' &&
    isCount(value.seq) &&
    isCount(value.lag) &&
    isCount(value.term)
  )
}

/** `GET /api/cluster`'s answer when it has every part the view reads; null otherwise. */
export function parseClusterInfo(body: unknown): ClusterInfo | null {
  if (!isRecord(body)) return null
  const { mode, node, leader, epoch, term, nodes, error } = body
  if (mode !== 'single' && mode !== 'cluster') return null
  if (typeof node !== 'string' || typeof epoch !== 'string' || !isCount(term)) return null
  if (leader !== null && typeof leader !== 'string') return null
  if (error !== null && typeof error !== 'string') return null
  if (!Array.isArray(nodes) || !nodes.every(isNode)) return null
  return { mode, node, leader, epoch, term, nodes, error }
}

/** `/healthz`'s `node`, or null from a server older than cluster mode. */
export function parseNodeHealth(body: unknown): NodeHealth | null {
  if (!isRecord(body) || !isRecord(body.node)) return null
  const { id, role } = body.node
  return typeof id === 'string' && (role === 'leader' || role === 'follower') ? { id, role } : null
}

/**
 * The history with one more point per listed node, at most `max` each;
 * nodes no longer listed are dropped (a node forgotten after a minute of
 * silence leaves its sparkline with it).
 */
export function recordLoad(history: LoadHistory, info: ClusterInfo, at: number, max = LOAD_POINTS): LoadHistory {
  const next: Record<string, readonly LoadPoint[]> = {}
  for (const node of info.nodes) {
    const before = history[node.id] ?? []
    const point = { at, viewers: node.viewers, agents: node.agents }
    next[node.id] = [...before.slice(Math.max(0, before.length + 1 - max)), point]
  }
  return next
}

/** The table's rows: nodes still there first (the leader first among them), then the gone ones; by id within each. */
export function clusterRows(info: ClusterInfo): ClusterRow[] {
  const rank = (row: ClusterRow) => (row.gone ? 2 : row.leading ? 0 : 1)
  return info.nodes
    .map((node) => ({ ...node, self: node.id === info.node, leading: node.id === info.leader && !node.gone }))
    .sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id))
}

/** The figures above the table: nodes still there and what they carry between them. */
export function clusterTotals(info: ClusterInfo): { live: number; gone: number; viewers: number; agents: number } {
  const live = info.nodes.filter((node) => !node.gone)
  return {
    live: live.length,
    gone: info.nodes.length - live.length,
    viewers: live.reduce((sum, node) => sum + node.viewers, 0),
    agents: live.reduce((sum, node) => sum + node.agents, 0),
  }
}
