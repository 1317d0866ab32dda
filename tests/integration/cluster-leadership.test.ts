/**
 * Leader election on a real PostgreSQL (cluster/leadership.ts): one leader
 * among several nodes on one database; a clean stop hands over at once with
 * the next term; a leader whose session is killed demotes itself and another
 * takes over under a higher term; followers ride out PostgreSQL going away.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { Client } from 'pg'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/core'
import { Leadership, type LeadershipChange } from '../../src/main/core/cluster/leadership'
import { postgresForSuite } from '../helpers/postgres-suite'

const pg = postgresForSuite()
const logger = pino({ level: 'silent' })
const running: Leadership[] = []
const children: ChildProcess[] = []

afterEach(async () => {
  pg().resume()
  for (const child of children.splice(0)) child.kill('SIGKILL')
  await Promise.all(running.splice(0).map((node) => node.stop()))
})

/** Nodes on one new database, trying every 100 ms; started together. */
async function nodes(count: number, aliveTimeoutMs?: number) {
  const { url } = await pg().createDatabase()
  const started = Array.from(
    { length: count },
    (_, i) => new Leadership({ url, nodeId: `node-${i}`, logger, checkMs: 100, maxBackoffMs: 400, aliveTimeoutMs }),
  )
  running.push(...started)
  await Promise.all(started.map((node) => node.start()))
  return { url, nodes: started }
}

const leaders = (all: Leadership[]) => all.filter((node) => node.role() === 'leader')
const oneLeader = (all: Leadership[]) =>
  eventually(
    () => leaders(all),
    (found) => found.length === 1,
    'one leader',
  )

/** The database's name in a URL the suite made. */
const nameOf = (url: string) => new URL(url).pathname.slice(1)

describe('leadership on a PostgreSQL advisory lock', () => {
  it('gives the lock to exactly one of three nodes, which raises the term; the others read who leads', async () => {
    const { url, nodes: all } = await nodes(3)
    const [leader] = await oneLeader(all)
    // The lock is held, so no later attempt makes a second leader.
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect(leaders(all)).toEqual([leader])
    expect(leader!.term()).toBe(1)
    for (const node of all) {
      expect(node.leader()).toBe('node-' + all.indexOf(leader!))
      expect(node.term()).toBe(1)
      expect(node.problem()).toBeNull()
    }
    const rows = await pg().sql(nameOf(url), 'SELECT term::int AS term, leader FROM swarm_cluster')
    expect(rows).toEqual([{ term: 1, leader: `node-${all.indexOf(leader!)}` }])
  })

  it('hands over within a check when the leader stops, under the next term', async () => {
    const { nodes: all } = await nodes(3)
    const [first] = await oneLeader(all)
    const changes: LeadershipChange[] = []
    first!.onChange((change) => changes.push(change))
    const stoppedAt = Date.now()
    await first!.stop()
    const rest = all.filter((node) => node !== first)
    const [second] = await oneLeader(rest)
    expect(Date.now() - stoppedAt).toBeLessThan(2_000)
    expect(second!.term()).toBe(first!.term() + 1)
    expect(first!.role()).toBe('follower')
    // A deliberate stop is no demotion: the core exits on those.
    expect(changes).toEqual([])
  })

  it('demotes a leader whose session is killed, and another takes over under a higher term', async () => {
    const { url, nodes: all } = await nodes(3)
    const [first] = await oneLeader(all)
    const term = first!.term()
    const demoted = new Promise<LeadershipChange>((resolve) => first!.onChange(resolve))
    const killed = await pg().sql(
      nameOf(url),
      "SELECT pg_terminate_backend(pid) AS done FROM pg_locks WHERE locktype = 'advisory' AND granted",
    )
    expect(killed).toEqual([{ done: true }])
    const change = await demoted
    expect(change.role).toBe('follower')
    expect(change.term).toBe(term)
    expect(change.reason).toMatch(/lost its PostgreSQL session/)
    const rest = all.filter((node) => node !== first)
    const [second] = await eventually(
      () => leaders(rest),
      (found) => found.length === 1,
      'another leader',
    )
    expect(second!.term()).toBeGreaterThan(term)
    // The demoted node competes again as a follower; the leader keeps the lock.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(leaders(all)).toEqual([second])
  })

  it('demotes a leader that cannot confirm its session in time (a query held up)', async () => {
    const { url, nodes: all } = await nodes(2, 300)
    const [first] = await oneLeader(all)
    const term = first!.term()
    const demoted = new Promise<LeadershipChange>((resolve) => first!.onChange(resolve))
    // Every node's next read of the row waits behind this lock, as it would behind a hung server.
    const blocker = new Client({ connectionString: url })
    await blocker.connect()
    await blocker.query('BEGIN; LOCK TABLE swarm_cluster IN ACCESS EXCLUSIVE MODE')
    try {
      expect((await demoted).reason).toBe('PostgreSQL did not answer within 300 ms')
    } finally {
      await blocker.query('ROLLBACK')
      await blocker.end()
    }
    const [next] = await oneLeader(all)
    expect(next!.term()).toBe(term + 1)
  })

  it('demotes a leader whose term another raised (fencing: the row, not the lock, has the last word)', async () => {
    const { url, nodes: all } = await nodes(1)
    const [only] = await oneLeader(all)
    const demoted = new Promise<LeadershipChange>((resolve) => only!.onChange(resolve))
    await pg().sql(nameOf(url), 'UPDATE swarm_cluster SET term = term + 1')
    expect((await demoted).reason).toBe("another node raised the term to 2, past this leader's 1")
    // Its session was closed with the lock, so it may lead again — under a new term.
    await oneLeader(all)
    expect(only!.term()).toBe(3)
  })

  it('ends the reign of a frozen leader (SIGSTOP: its kernel still answers keepalives), which demotes itself when it wakes', async () => {
    const { url } = await pg().createDatabase()
    const root = join(__dirname, '../..')
    // tsx as a loader in this very process, not its launcher (whose child a SIGSTOP would miss).
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'tests/helpers/leader-contender.ts'), url, 'frozen', '1000'],
      { stdio: ['pipe', 'pipe', 'inherit'], cwd: root },
    )
    children.push(child)
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()))
    await eventually(
      () => out,
      (text) => text.includes('leader 1\n'),
      'the child to lead',
      15_000,
    )
    const here = new Leadership({ url, nodeId: 'here', logger, checkMs: 100 })
    running.push(here)
    await here.start()
    expect(here.role()).toBe('follower')

    child.kill('SIGSTOP')
    const stoppedAt = Date.now()
    await eventually(
      () => here.role(),
      (role) => role === 'leader',
      'this node to lead',
      5_000,
    )
    // PostgreSQL closes the silent session after 1 s; the next attempt (100 ms) takes the lock.
    expect(Date.now() - stoppedAt).toBeLessThan(2_500)
    expect(here.term()).toBe(2)

    child.kill('SIGCONT')
    await eventually(
      () => out,
      (text) => text.includes('follower 1 '),
      'the child to demote itself',
      5_000,
    )
    expect(out).toMatch(/follower 1 lost its PostgreSQL session: .*idle-session timeout/)
    expect(here.role()).toBe('leader')
  }, 30_000)

  it('rides out PostgreSQL going away: the leader demotes, followers keep trying, and one leads when it returns', async () => {
    const { nodes: all } = await nodes(2)
    const [first] = await oneLeader(all)
    const term = first!.term()
    const demoted = new Promise<LeadershipChange>((resolve) => first!.onChange(resolve))
    pg().halt()
    expect((await demoted).role).toBe('follower')
    await eventually(
      () => all.map((node) => node.problem()),
      (problems) => problems.every((problem) => problem?.startsWith('PostgreSQL unreachable') === true),
      'both to report PostgreSQL unreachable',
    )
    expect(leaders(all)).toEqual([])
    pg().resume()
    const [next] = await oneLeader(all)
    expect(next!.term()).toBe(term + 1)
    await eventually(
      () => all.map((node) => node.problem()),
      (problems) => problems.every((problem) => problem === null),
      'both to reach PostgreSQL again',
    )
  }, 20_000)
})
