/**
 * `GET /api/cluster` and `/healthz`'s `node` on real servers: a single node
 * answers as the one leader of a cluster of one; two nodes on one Redis and
 * one PostgreSQL list each other, agree on the leader and the epoch, and the
 * other leads when the leader stops.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ClusterInfo } from '../../src/shared/cluster'
import type { Health } from '../../src/shared/protocol'
import { TEST_TOKENS, connectDashboard, getJson, startCore, eventually } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'
import { redisForSuite } from '../helpers/redis-suite'

const pg = postgresForSuite()
const redis = redisForSuite()

const cores: { stop(): Promise<void> }[] = []
const closers: (() => void)[] = []
afterEach(async () => {
  closers.splice(0).forEach((close) => close())
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

async function serve(argv: string[]) {
  const core = await startCore(['--no-demo', ...argv])
  cores.push(core)
  return core
}

const cluster = async (url: string) => (await getJson(`${url}/api/cluster`, TEST_TOKENS.viewer)).body as ClusterInfo
const health = async (url: string) => (await getJson(`${url}/healthz`)).body as Health

describe('GET /api/cluster and /healthz', () => {
  it('answers a single node as the one leader of a cluster of one, to viewers and operators only', async () => {
    const core = await serve(['--node-id', 'solo-1'])
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    closers.push(() => socket.close())
    const info = await cluster(core.url)
    expect(info).toMatchObject({ mode: 'single', node: 'solo-1', leader: 'solo-1', term: 0, error: null })
    expect(info.epoch).toMatch(/^[0-9a-f-]{36}$/)
    expect(info.nodes).toEqual([
      {
        ...{ id: 'solo-1', role: 'leader', url: core.url, viewers: 1, agents: 0, seq: expect.any(Number), lag: 0 },
        ...{ term: 0, startedAt: expect.any(Number), lastSeenAt: expect.any(Number), gone: false },
      },
    ])
    expect((await getJson(`${core.url}/api/cluster`, TEST_TOKENS.operator)).body).toMatchObject({ node: 'solo-1' })

    const anonymous = await getJson(`${core.url}/api/cluster`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.body).toMatchObject({ error: { code: 'unauthorized' } })
    expect((await getJson(`${core.url}/api/cluster`, TEST_TOKENS.agent)).status).toBe(403)

    expect(await health(core.url)).toMatchObject({ status: 'ok', node: { id: 'solo-1', role: 'leader' } })
  })

  it('tells the others the --advertise-url instead of the listening URL when given one', async () => {
    const core = await serve(['--node-id', 'behind-nat', '--advertise-url', 'https://node.example:7420'])
    expect((await cluster(core.url)).nodes.map((node) => node.url)).toEqual(['https://node.example:7420'])
  })

  it('lists both nodes of a two-node cluster from either, one leader, one epoch; the other leads when it stops', async () => {
    const { url: database } = await pg().createDatabase()
    const a = await serve(['--database', database, '--redis', redis().url, '--node-id', 'node-a'])
    const b = await serve(['--database', database, '--redis', redis().url, '--node-id', 'node-b'])
    const agreed = (infos: ClusterInfo[]) =>
      infos.every(
        (info) =>
          info.error === null &&
          info.leader !== null &&
          info.leader === infos[0]!.leader &&
          info.epoch === infos[0]!.epoch &&
          info.nodes.filter((node) => !node.gone && node.url !== '').length === 2,
      )
    const infos = await eventually(() => Promise.all([cluster(a.url), cluster(b.url)]), agreed, 'both nodes listed')
    const leaderId = infos[0]!.leader!
    for (const info of infos) {
      expect(info).toMatchObject({ mode: 'cluster', term: 1 })
      expect(info.nodes.map((node) => [node.id, node.role, node.url])).toEqual([
        ['node-a', leaderId === 'node-a' ? 'leader' : 'follower', a.url],
        ['node-b', leaderId === 'node-b' ? 'leader' : 'follower', b.url],
      ])
    }
    const [leader, follower] = leaderId === 'node-a' ? [a, b] : [b, a]
    expect((await health(leader.url)).node).toEqual({ id: leaderId, role: 'leader' })
    expect((await health(follower.url)).node.role).toBe('follower')

    await leader.stop()
    cores.splice(cores.indexOf(leader), 1)
    const after = await eventually(
      () => cluster(follower.url),
      // Its own election at once; the stopped one's entry as of the next read of the others (once a second).
      (info) =>
        info.leader !== null &&
        info.leader !== leaderId &&
        info.nodes.find((node) => node.id === leaderId)?.gone === true,
      'the other to lead, the stopped one gone',
      4_000,
    )
    expect(after.term).toBe(2)
    expect(after.nodes.find((node) => node.id === leaderId)).toMatchObject({ gone: true })
    expect((await health(follower.url)).node.role).toBe('leader')
  })
})
