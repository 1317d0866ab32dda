/**
 * Membership through a real Redis, leadership on a real PostgreSQL
 * (cluster/redis-membership.ts): nodes list each other with their figures,
 * agree on the leader and the epoch; a stopped node shows gone; silent and
 * unreadable entries go; Redis restarted empty brings a new epoch every node
 * hears of; Redis away is reported, never thrown, and ridden out.
 */
import { randomBytes } from 'node:crypto'
import { createClient } from '@redis/client'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/core'
import type { ClusterInfo } from '../../src/shared/cluster'
import { Leadership } from '../../src/main/core/cluster/leadership'
import type { NodeLoad } from '../../src/main/core/cluster/membership'
import { RedisMembership } from '../../src/main/core/cluster/redis-membership'
import { postgresForSuite } from '../helpers/postgres-suite'
import { redisForSuite } from '../helpers/redis-suite'

const pg = postgresForSuite()
const redis = redisForSuite()

const logger = pino({ level: 'silent' })
const running: RedisMembership[] = []
afterEach(async () => {
  pg().resume()
  await Promise.all(running.splice(0).map((node) => node.stop()))
})

/** `count` nodes on one new database and one key prefix, reporting every 100 ms; node-i has i viewers, 10·i agents. */
async function cluster(count: number, log = logger) {
  const { url } = await pg().createDatabase()
  const prefix = `t${randomBytes(4).toString('hex')}:`
  const nodes = Array.from({ length: count }, (_, i) => {
    const nodeId = `node-${i}`
    const load = (): NodeLoad => ({ url: `http://127.0.0.1:${7000 + i}`, viewers: i, agents: 10 * i, seq: 5, lag: i })
    const leadership = new Leadership({ url, nodeId, logger: log, checkMs: 100, maxBackoffMs: 400 })
    return new RedisMembership({ url: redis().url, nodeId, leadership, logger: log, load, reportMs: 100, prefix })
  })
  running.push(...nodes)
  await Promise.all(nodes.map((node) => node.start()))
  return { nodes, prefix }
}

const infos = (nodes: RedisMembership[]) => Promise.all(nodes.map((node) => node.info()))
const settled = (count: number) => (all: ClusterInfo[]) =>
  all.every(
    (info) =>
      info.error === null &&
      info.leader !== null &&
      info.leader === all[0]!.leader &&
      info.epoch !== '' &&
      info.epoch === all[0]!.epoch &&
      info.nodes.filter((node) => !node.gone).length === count,
  )

/** A client of its own, to look at and tamper with what the nodes wrote. */
async function raw() {
  const client = createClient({ url: redis().url })
  await client.connect()
  return client
}

describe('membership through Redis', () => {
  it('lists every node with its figures, one leader and one epoch, seen alike from every node', async () => {
    const { nodes } = await cluster(3)
    const all = await eventually(() => infos(nodes), settled(3), 'three nodes to agree')
    const leader = nodes.find((node) => node.role() === 'leader')!
    for (const [i, info] of all.entries()) {
      expect(info).toMatchObject({ mode: 'cluster', node: `node-${i}`, leader: leader.nodeId, term: 1 })
      expect(info.nodes.map((node) => node.id)).toEqual(['node-0', 'node-1', 'node-2'])
      for (const [j, node] of info.nodes.entries()) {
        expect(node).toMatchObject({ url: `http://127.0.0.1:${7000 + j}`, viewers: j, agents: 10 * j, seq: 5, lag: j })
        expect(node.role).toBe(node.id === leader.nodeId ? 'leader' : 'follower')
        expect(node.gone).toBe(false)
        expect(Date.now() - node.lastSeenAt).toBeLessThan(1_000)
      }
    }
    expect(nodes.map((node) => node.epoch())).toEqual(all.map((info) => info.epoch))
  })

  it('shows a stopped node as gone at once, and a new leader when it led', async () => {
    const { nodes } = await cluster(3)
    await eventually(() => infos(nodes), settled(3), 'three nodes to agree')
    const leader = nodes.find((node) => node.role() === 'leader')!
    await leader.stop()
    const rest = nodes.filter((node) => node !== leader)
    const after = await eventually(() => infos(rest), settled(2), 'the two others to agree on a new leader')
    for (const info of after) {
      expect(info.leader).not.toBe(leader.nodeId)
      expect(info.term).toBe(2)
      expect(info.nodes.find((node) => node.id === leader.nodeId)).toMatchObject({ gone: true })
    }
  })

  it('marks a silent node gone after 5 s, deletes it after a minute, and drops entries it cannot read', async () => {
    const { nodes, prefix } = await cluster(1)
    const client = await raw()
    const entry = (id: string, silentMs: number) =>
      JSON.stringify({
        ...{ id, role: 'follower', url: 'http://127.0.0.1:1', viewers: 0, agents: 0, seq: 0, lag: 0, term: 1 },
        ...{ startedAt: Date.now() - 120_000, lastSeenAt: Date.now() - silentMs },
      })
    await client.hSet(`${prefix}nodes`, {
      quiet: entry('quiet', 6_000),
      forgotten: entry('forgotten', 61_000),
      garbage: '{"not":"a node"',
    })
    const info = await eventually(
      () => nodes[0]!.info(),
      (seen) => seen.nodes.length === 2,
      'the quiet node listed, the others not',
    )
    expect(info.nodes.map((node) => [node.id, node.gone])).toEqual([
      ['node-0', false],
      ['quiet', true],
    ])
    await eventually(
      () => client.hKeys(`${prefix}nodes`),
      (keys) => keys.length === 2,
      'the forgotten and unreadable entries deleted',
    )
    expect((await client.hKeys(`${prefix}nodes`)).sort()).toEqual(['node-0', 'quiet'])
    client.destroy()
  })

  it('takes a new epoch when Redis comes back empty, the same on every node, each told once', async () => {
    const { nodes } = await cluster(3)
    const before = await eventually(() => infos(nodes), settled(3), 'three nodes to agree')
    const heard = nodes.map(() => [] as [string, string | null][])
    nodes.forEach((node, i) => node.onEpoch((epoch, previous) => heard[i]!.push([epoch, previous])))
    await redis().restart()
    const after = await eventually(
      () => infos(nodes),
      (all) => settled(3)(all) && all[0]!.epoch !== before[0]!.epoch,
      'a new epoch on every node',
    )
    expect(after[0]!.epoch).toMatch(/^[0-9a-f-]{36}$/)
    for (const events of heard) expect(events).toEqual([[after[0]!.epoch, before[0]!.epoch]])
  })

  it('reports Redis away in info() without throwing, lists itself alone meanwhile, and recovers', async () => {
    const lines: string[] = []
    const { nodes } = await cluster(2, pino({ level: 'info' }, { write: (line: string) => lines.push(line) }))
    const before = await eventually(() => infos(nodes), settled(2), 'two nodes to agree')
    await redis().kill()
    const away = await eventually(
      () => infos(nodes),
      (all) => all.every((info) => info.error !== null),
      'both to report Redis unreachable',
    )
    for (const [i, info] of away.entries()) {
      expect(info.error).toMatch(/^Redis unreachable/)
      expect(info.nodes.map((node) => node.id)).toEqual([`node-${i}`])
      // What it last knew: the leader (from PostgreSQL, still reachable) and the epoch.
      expect(info.leader).toBe(before[i]!.leader)
      expect(info.epoch).toBe(before[i]!.epoch)
    }
    // Still away after several reports and reconnection attempts: nothing has thrown meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await infos(nodes)).every((info) => info.error !== null)).toBe(true)
    await redis().restart()
    const back = await eventually(() => infos(nodes), settled(2), 'both back, agreeing', 8_000)
    expect(back[0]!.epoch).not.toBe(before[0]!.epoch)
    // One line per node for the outage, however many reconnection attempts failed; one for the return.
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg)
    expect(messages.filter((msg) => msg === 'cluster: cannot reach Redis; retrying')).toHaveLength(2)
    expect(messages.filter((msg) => msg === 'cluster: Redis is back')).toHaveLength(2)
  })

  it('reports PostgreSQL away in info() too, with the leader demoted, and recovers', async () => {
    const { nodes } = await cluster(1)
    await eventually(() => infos(nodes), settled(1), 'the node to lead')
    pg().halt()
    const away = await eventually(
      () => nodes[0]!.info(),
      (info) => info.error !== null,
      'PostgreSQL reported unreachable',
    )
    expect(away.error).toMatch(/^PostgreSQL unreachable: /)
    expect(nodes[0]!.role()).toBe('follower')
    // Redis still answers: the node stays listed, as a follower.
    expect(away.nodes.map((node) => [node.id, node.role])).toEqual([['node-0', 'follower']])
    pg().resume()
    const back = await eventually(() => infos(nodes), settled(1), 'the node to lead again')
    expect(back[0]!.term).toBe(2)
  })
})
