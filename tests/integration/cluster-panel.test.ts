/**
 * What the Cluster view and Prometheus see of a real server: the view's
 * store polling `GET /api/cluster` and `/healthz` of a single server and of
 * a two-node cluster on a real Redis and PostgreSQL, and the per-node
 * cluster gauges in `GET /metrics`.
 */
import { randomBytes } from 'node:crypto'
import { createPinia, setActivePinia } from 'pinia'
import pino from 'pino'
import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { registerClusterMetrics } from '../../src/main/core/cluster/cluster-metrics'
import { Leadership } from '../../src/main/core/cluster/leadership'
import { lagBehindLeader } from '../../src/main/core/cluster/membership'
import { RedisMembership } from '../../src/main/core/cluster/redis-membership'
import type { Result } from '../../src/shared/result'
import { useClusterStore, type ClusterSource } from '../../src/renderer/src/stores/cluster'
import { clusterRows, parseClusterInfo, parseNodeHealth } from '../../src/renderer/src/stores/cluster.model'
import { TEST_TOKENS, startCore, until } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'
import { redisForSuite } from '../helpers/redis-suite'

type Node = Awaited<ReturnType<typeof startCore>>
const nodes: Node[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.stop()))
})
beforeEach(() => setActivePinia(createPinia()))

/**
 * What the page's source does (cluster.source.ts, over the browser's fetch):
 * the same two requests with a bearer token, their answers checked by the
 * same parsers.
 */
function sourceOn(node: Node, token: string = TEST_TOKENS.viewer): ClusterSource {
  async function read<T>(path: string, parse: (body: unknown) => T | null): Promise<Result<T>> {
    const response = await fetch(`${node.url}${path}`, { headers: { Authorization: `Bearer ${token}` } })
    const body = (await response.json()) as { error?: { code: 'unauthorized'; message: string } }
    if (!response.ok) return { ok: false, error: body.error! }
    const data = parse(body)
    return data === null ? { ok: false, error: { code: 'internal', message: 'unexpected answer' } } : { ok: true, data }
  }
  return { info: () => read('/api/cluster', parseClusterInfo), node: () => read('/healthz', parseNodeHealth) }
}

async function metricsOf(node: Node): Promise<string> {
  const response = await fetch(`${node.url}/metrics`, { headers: { Authorization: `Bearer ${TEST_TOKENS.viewer}` } })
  expect(response.status).toBe(200)
  return response.text()
}

/** A gauge's value for this node, or null when it is not in the text. */
function gauge(text: string, name: string, node: string): number | null {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{node="${node}"} `))
  return line === undefined ? null : Number(line.split(' ')[1])
}

describe('a single server', () => {
  it('the view reads one node, its own leader, in single mode; polling adds a load point every 2 s', async () => {
    const node = await startCore(['--no-demo', '--node-id', 'solo'])
    nodes.push(node)
    const store = useClusterStore()
    store.start(sourceOn(node))
    await until(() => store.info !== null, 5_000, 'the first answer')
    expect(store.info).toMatchObject({ mode: 'single', node: 'solo', leader: 'solo', term: 0, error: null })
    expect(clusterRows(store.info!).map((row) => [row.id, row.role, row.leading, row.self])).toEqual([
      ['solo', 'leader', true, true],
    ])
    expect(store.loads.solo).toHaveLength(1)
    await until(() => (store.loads.solo?.length ?? 0) >= 2, 3_500, 'the second poll')
    store.stop()
    const points = store.loads.solo!.length
    await new Promise((resolve) => setTimeout(resolve, 2_300))
    expect(store.loads.solo).toHaveLength(points)

    await store.loadNode(sourceOn(node))
    expect(store.node).toEqual({ id: 'solo', role: 'leader' })
  })

  it('says why when the server refuses the token, and keeps nothing stale', async () => {
    const node = await startCore(['--no-demo'])
    nodes.push(node)
    const store = useClusterStore()
    await store.refreshFrom(sourceOn(node, 'not-a-token-0000000000000000'))
    expect(store.info).toBeNull()
    expect(store.error?.code).toBe('unauthorized')
  })

  it('/metrics reports it the leader of term 0, with no lag', async () => {
    const node = await startCore(['--no-demo', '--node-id', 'solo'])
    nodes.push(node)
    const text = await metricsOf(node)
    expect(text).toContain('# TYPE swarm_cluster_role gauge')
    expect(gauge(text, 'swarm_cluster_role', 'solo')).toBe(1)
    expect(gauge(text, 'swarm_cluster_term', 'solo')).toBe(0)
    expect(gauge(text, 'swarm_cluster_stream_lag_events', 'solo')).toBe(0)
  })
})

describe('two nodes on Redis and PostgreSQL', () => {
  const pg = postgresForSuite()
  const redis = redisForSuite()

  async function cluster(): Promise<[Node, Node]> {
    const { url } = await pg().createDatabase()
    const args = (id: string) => ['--no-demo', '--database', url, '--redis', redis().url, '--node-id', id]
    nodes.push(await startCore(args('p0')))
    await until(() => nodes[0]!.cluster.role() === 'leader', 5_000, 'a first leader')
    nodes.push(await startCore(args('p1')))
    return [nodes[0]!, nodes[1]!]
  }

  it('the view on the follower lists both, the leader first; a stopped node shows gone, last', async () => {
    const [leader, follower] = await cluster()
    const store = useClusterStore()
    const both = async () => {
      await store.refreshFrom(sourceOn(follower))
      return store.info?.nodes.filter((node) => !node.gone && node.url).length === 2
    }
    for (let i = 0; i < 50 && !(await both()); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    const info = store.info!
    expect(info).toMatchObject({ mode: 'cluster', node: 'p1', leader: 'p0', term: 1, error: null })
    expect(info.epoch).toMatch(/^[0-9a-f-]{36}$/)
    expect(clusterRows(info).map((row) => [row.id, row.role, row.leading, row.self, row.gone])).toEqual([
      ['p0', 'leader', true, false, false],
      ['p1', 'follower', false, true, false],
    ])
    await store.loadNode(sourceOn(follower))
    expect(store.node).toEqual({ id: 'p1', role: 'follower' })

    // Seen from the leader: the follower stops cleanly and is gone at once (its last report says so).
    setActivePinia(createPinia())
    const onLeader = useClusterStore()
    await follower.stop()
    nodes.splice(1, 1)
    for (let i = 0; i < 30; i++) {
      await onLeader.refreshFrom(sourceOn(leader))
      if (onLeader.info?.nodes.find((node) => node.id === 'p1')?.gone) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(clusterRows(onLeader.info!).map((row) => [row.id, row.gone])).toEqual([
      ['p0', false],
      ['p1', true],
    ])
  }, 30_000)

  it('/metrics of each node: the leader 1, the follower 0, both at term 1', async () => {
    const [leader, follower] = await cluster()
    const [onLeader, onFollower] = await Promise.all([metricsOf(leader), metricsOf(follower)])
    expect(gauge(onLeader, 'swarm_cluster_role', 'p0')).toBe(1)
    expect(gauge(onFollower, 'swarm_cluster_role', 'p1')).toBe(0)
    expect(gauge(onLeader, 'swarm_cluster_term', 'p0')).toBe(1)
    expect(gauge(onFollower, 'swarm_cluster_term', 'p1')).toBe(1)
    expect(gauge(onFollower, 'swarm_cluster_stream_lag_events', 'p1')).toBe(0)
    // Each node describes itself only.
    expect(gauge(onLeader, 'swarm_cluster_role', 'p1')).toBeNull()
  }, 30_000)

  it("a follower's lag is the leader's reported seq past its own, in /api/cluster and in its gauge", async () => {
    const { url } = await pg().createDatabase()
    const prefix = `lag${randomBytes(4).toString('hex')}:`
    const logger = pino({ level: 'silent' })
    const seqs: Record<string, number> = { l: 120, f: 100 }
    const members: RedisMembership[] = []
    const member = (nodeId: string) => {
      const leadership = new Leadership({ url, nodeId, logger, checkMs: 100, maxBackoffMs: 400 })
      const membership: RedisMembership = new RedisMembership({
        url: redis().url,
        nodeId,
        leadership,
        logger,
        prefix,
        reportMs: 100,
        // As the core reports itself (core.ts).
        load: () => ({
          url: `http://127.0.0.1:9/${nodeId}`,
          viewers: 0,
          agents: 0,
          seq: seqs[nodeId]!,
          lag: lagBehindLeader(membership, seqs[nodeId]!),
        }),
      })
      members.push(membership)
      return membership
    }
    try {
      const leader = member('l')
      await leader.start()
      await until(() => leader.role() === 'leader', 5_000, 'l to lead')
      const follower = member('f')
      await follower.start()
      const lagOf = async (m: RedisMembership, id: string) => (await m.info()).nodes.find((n) => n.id === id)?.lag
      for (let i = 0; i < 50 && (await lagOf(follower, 'f')) !== 20; i++) await new Promise((r) => setTimeout(r, 50))
      expect(await lagOf(follower, 'f')).toBe(20)
      expect(await lagOf(leader, 'l')).toBe(0)
      // The leader sees the follower's reported lag too.
      for (let i = 0; i < 50 && (await lagOf(leader, 'f')) !== 20; i++) await new Promise((r) => setTimeout(r, 50))
      expect(await lagOf(leader, 'f')).toBe(20)

      const registry = new Registry()
      registerClusterMetrics(registry, follower)
      const text = await registry.metrics()
      expect(gauge(text, 'swarm_cluster_stream_lag_events', 'f')).toBe(20)
      expect(gauge(text, 'swarm_cluster_role', 'f')).toBe(0)
      expect(gauge(text, 'swarm_cluster_term', 'f')).toBe(1)

      // Ahead of the leader's last report (it has applied events written since): no lag, never a negative one.
      seqs.f = 130
      expect(await lagOf(follower, 'f')).toBe(0)
    } finally {
      await Promise.all(members.map((m) => m.stop()))
    }
  }, 30_000)
})
