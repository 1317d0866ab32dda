import { describe, expect, it } from 'vitest'
import type { ClusterInfo, ClusterNode } from '../../../src/shared/cluster'
import {
  LOAD_POINTS,
  clusterRows,
  clusterTotals,
  parseClusterInfo,
  parseNodeHealth,
  recordLoad,
} from '../../../src/renderer/src/stores/cluster.model'

const node = (id: string, extra: Partial<ClusterNode> = {}): ClusterNode => ({
  id,
  role: 'follower',
  url: `http://10.0.0.1:7000/${id}`,
  viewers: 1,
  agents: 0,
  startedAt: 1_000,
  lastSeenAt: 2_000,
  gone: false,
  seq: 10,
  lag: 0,
  term: 3,
  ...extra,
})

/** Three nodes as a follower (c) reports them after the old leader (a) died and b took over. */
const info: ClusterInfo = {
  mode: 'cluster',
  node: 'c',
  leader: 'b',
  epoch: '5d1c0a4e-0000-4000-8000-000000000000',
  term: 3,
  nodes: [
    node('a', { role: 'leader', term: 2, gone: true, viewers: 9 }),
    node('b', { role: 'leader', viewers: 4, agents: 2 }),
    node('c', { viewers: 2, agents: 1, lag: 5 }),
  ],
  error: null,
}

describe('the Cluster view model', () => {
  it('lists the leader first, then the other live nodes, then the gone ones; marks the answering node', () => {
    const rows = clusterRows(info)
    expect(rows.map((row) => [row.id, row.leading, row.self, row.gone])).toEqual([
      ['b', true, false, false],
      ['c', false, true, false],
      ['a', false, false, true],
    ])
  })

  it('adds up what the live nodes carry; gone ones are counted apart', () => {
    expect(clusterTotals(info)).toEqual({ live: 2, gone: 1, viewers: 6, agents: 3 })
  })

  it('keeps at most LOAD_POINTS points per node, and drops nodes no longer listed', () => {
    let history = recordLoad({}, info, 0)
    for (let i = 1; i < LOAD_POINTS + 5; i++) history = recordLoad(history, info, i * 2000)
    expect(history.b).toHaveLength(LOAD_POINTS)
    expect(history.b!.at(-1)).toEqual({ at: (LOAD_POINTS + 4) * 2000, viewers: 4, agents: 2 })
    expect(history.b![0]!.at).toBe(5 * 2000)
    const later = recordLoad(history, { ...info, nodes: info.nodes.slice(1) }, 999_999)
    expect(Object.keys(later).sort()).toEqual(['b', 'c'])
  })

  it('accepts a whole answer and refuses one missing what the view reads', () => {
    expect(parseClusterInfo(JSON.parse(JSON.stringify(info)))).toEqual(info)
    expect(parseClusterInfo({ ...info, mode: 'mesh' })).toBeNull()
    expect(parseClusterInfo({ ...info, leader: 7 })).toBeNull()
    expect(parseClusterInfo({ ...info, nodes: [{ ...info.nodes[0], viewers: -1 }] })).toBeNull()
    expect(parseClusterInfo({ ...info, nodes: [{ ...info.nodes[0], role: 'boss' }] })).toBeNull()
    expect(parseClusterInfo(null)).toBeNull()
    expect(parseNodeHealth({ status: 'ok', node: { id: 'b', role: 'leader' } })).toEqual({ id: 'b', role: 'leader' })
    // A server older than cluster mode has no `node` in /healthz.
    expect(parseNodeHealth({ status: 'ok', version: '1.0.0' })).toBeNull()
  })
})
