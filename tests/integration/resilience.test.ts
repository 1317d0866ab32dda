/**
 * The shared resilient client under real faults: a real core, real
 * socket.io-client sockets, a TCP fault proxy in between. Short backoffs
 * and heartbeats where the test is about behaviour; the defaults where it
 * is about the documented bound (half-open detection ≤ 15 s).
 */
import { io } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DashboardClient, type DashboardTuning } from '../../src/shared/client/dashboard-client'
import { detectionBoundMs } from '../../src/shared/client/heartbeat'
import type { SwarmState } from '../../src/shared/reducer'
import { replicate } from '../../src/shared/client/replica'
import type { ConnectionState } from '../../src/shared/client/states'
import type { Task } from '../../src/shared/domain'
import type { Snapshot } from '../../src/shared/protocol'
import { FaultProxy } from '../helpers/fault-proxy'
import { freePort } from '../helpers/ports'
import { getJson, postJson, startCore, TEST_TOKENS, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

const clients: DashboardClient[] = []
afterEach(() => {
  for (const client of clients.splice(0)) client.dispose()
})

/** A shared-client viewer in Node holding the swarm with the shared reducer, as the renderer does. */
function viewer(url: string, tuning: Partial<DashboardTuning> = {}, token = TEST_TOKENS.operator) {
  const client = new DashboardClient({
    url,
    token,
    createSocket: io,
    fetch: (input, init) => fetch(input, init),
    tuning: { backoff: { minMs: 100, maxMs: 400 }, ...tuning },
  })
  const swarm = replicate(client).state
  const states: ConnectionState[] = []
  client.on('state', (t) => states.push(t.to))
  clients.push(client)
  client.start()
  return { client, swarm, states }
}

const stateOf = (client: DashboardClient) => client.status.state

async function submit(url: string, name: string): Promise<Task> {
  const { status, body } = await postJson(`${url}/api/tasks`, { name, kind: 'noop' }, TEST_TOKENS.operator)
  expect(status).toBe(201)
  return body as Task
}

/**
 * Waits until the viewer has caught up with the server's snapshot, then
 * compares what both hold: same tasks and agents, nothing applied twice.
 * (Metrics samples move the seq on every second, so "caught up" is ≥.)
 */
async function converged(url: string, swarm: SwarmState): Promise<void> {
  const server = (await getJson(`${url}/api/snapshot`, TEST_TOKENS.viewer)).body as Snapshot
  await until(() => swarm.seq >= server.seq, 5000, `the viewer to reach seq ${server.seq} (at ${swarm.seq})`)
  const byId = <T extends { id: string }>(items: Iterable<T>) =>
    [...items].sort((a, b) => a.id.localeCompare(b.id)).map((item) => JSON.stringify(item))
  expect(byId(swarm.tasks.values())).toEqual(byId(server.tasks))
  expect(byId(swarm.agents.values())).toEqual(byId(server.agents))
  expect(swarm.duplicates).toBe(0)
}

describe('the server stops and comes back', () => {
  it('reconnecting with growing delays, then connected with the restarted server’s state (not a mix)', async () => {
    const port = await freePort()
    let core: TestCore = await startCore(['--no-demo', '--port', String(port)])
    try {
      const { client, swarm, states } = viewer(core.url, { backoff: { minMs: 100, maxMs: 3200 } })
      await until(() => stateOf(client) === 'connected', 5000, 'connected')
      await submit(core.url, 'before the restart')
      await until(() => swarm.tasks.size === 1, 5000, 'the first task')

      const delays: number[] = []
      client.on('change', ({ retryDelayMs, attempt }) => {
        if (retryDelayMs !== null && delays.length < attempt) delays.push(retryDelayMs)
      })
      await core.stop()
      await until(() => stateOf(client) === 'reconnecting', 5000, 'reconnecting')
      await until(() => client.status.attempt >= 4, 5000, 'four attempts')
      // Each delay longer than the one before (±20 % jitter never reorders a doubling).
      expect(delays.length).toBeGreaterThanOrEqual(3)
      for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!)
      expect(client.status.lastError?.message).toMatch(/attempt \d+ failed/)

      core = await startCore(['--no-demo', '--port', String(port)])
      await submit(core.url, 'after the restart')
      await until(() => stateOf(client) === 'connected', 10_000, 'connected again')
      // Another server process: a fresh snapshot, not a resume from seqs that mean nothing here. (Its seq may be
      // lower than the old server's, so wait for it by content: a compressed snapshot is applied once inflated.)
      expect(client.status.resumed).toBe(false)
      const restarted = () => [...swarm.tasks.values()].some((task) => task.name === 'after the restart')
      await until(restarted, 5000, 'the restarted server’s snapshot')
      await converged(core.url, swarm)
      expect([...swarm.tasks.values()].map((t) => t.name)).toEqual(['after the restart'])
      expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected'])
    } finally {
      await core.stop()
    }
  })
})

describe('through a faulty network', () => {
  let core: TestCore
  let proxy: FaultProxy
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
    proxy = await FaultProxy.start(core.url)
  })
  afterEach(() => proxy.heal())
  afterAll(async () => {
    await proxy.close()
    await core.stop()
  })

  it('notices a black-holed link (no FIN, no RST) by its heartbeat within the documented bound', async () => {
    const bound = detectionBoundMs()
    expect(bound).toBeLessThanOrEqual(15_000)
    const { client, swarm } = viewer(proxy.url)
    await until(() => client.status.transport === 'websocket' && client.status.rttMs !== null, 5000, 'live')
    proxy.blackhole()
    const started = Date.now()
    await until(() => stateOf(client) !== 'connected', bound + 2000, 'the dead link to be noticed')
    const took = Date.now() - started
    expect(took).toBeLessThanOrEqual(bound + 500)
    expect(client.status.lastError?.message).toMatch(/heartbeat/)
    proxy.blackhole(false)
    await submit(core.url, 'while it was dark')
    await until(() => stateOf(client) === 'connected', 10_000, 'connected again')
    await converged(core.url, swarm)
  }, 30_000)

  it('connects over long-polling when WebSocket upgrades are refused, and says so', async () => {
    proxy.refuseWebSocket()
    const { client, swarm } = viewer(proxy.url)
    await until(() => stateOf(client) === 'connected', 5000, 'connected')
    await until(() => proxy.refused.some((r) => r.why === 'websocket'), 5000, 'an upgrade to be refused')
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(client.status).toMatchObject({ state: 'connected', transport: 'polling' })
    await submit(core.url, 'over long-polling')
    await until(() => [...swarm.tasks.values()].some((t) => t.name === 'over long-polling'), 5000, 'the task')
    await until(() => client.status.rttMs !== null, 5000, 'a heartbeat over long-polling')
  })

  it('polls GET /api/snapshot after 5 failed attempts when only Socket.IO is broken, then resumes push', async () => {
    const { client, swarm, states } = viewer(proxy.url)
    await until(() => stateOf(client) === 'connected', 5000, 'connected')
    proxy.breakPath('/socket.io/')
    // Five attempts at 100–400 ms take ~1.5 s quiet; a busy machine has been seen to take over 10 s.
    await until(() => stateOf(client) === 'polling', 20_000, 'polling')
    expect(client.status.failures).toBeGreaterThanOrEqual(5)
    expect(client.status.transport).toBe('rest')

    // Data keeps coming, by REST.
    await submit(core.url, 'while polling')
    await until(() => [...swarm.tasks.values()].some((t) => t.name === 'while polling'), 5000, 'a polled task')
    expect(client.status.lastPollAt).not.toBeNull()

    proxy.breakPath(null)
    await until(() => stateOf(client) === 'connected', 5000, 'back to push')
    // Same server: it resumed from the polled snapshot's seq, events only.
    expect(client.status.resumed).toBe(true)
    await submit(core.url, 'pushed again')
    await converged(core.url, swarm)
    expect(states.slice(-3)).toEqual(['reconnecting', 'polling', 'connected'])
  }, 40_000)

  it('judges 200 ms of added latency (each way) degraded and shows the round trip', async () => {
    const { client } = viewer(proxy.url, { heartbeat: { intervalMs: 250, timeoutMs: 2000 } })
    await until(() => client.status.quality === 'good', 5000, 'a good link')
    proxy.setLatency(200)
    await until(() => client.status.quality === 'degraded', 8000, 'degraded')
    expect(client.status.rttMs).toBeGreaterThanOrEqual(400)
    expect(client.status.state).toBe('connected')
    proxy.setLatency(0)
    await until(() => client.status.quality === 'good', 8000, 'good again')
  })

  it('delivers commands queued while down exactly once, in order, after the reconnect', async () => {
    const { client } = viewer(proxy.url)
    await until(() => stateOf(client) === 'connected', 5000, 'connected')
    proxy.down()
    await until(() => stateOf(client) === 'reconnecting', 5000, 'reconnecting')
    const names = Array.from({ length: 60 }, (_, i) => `queued ${i}`)
    const results = names.map((name) => client.command('task:submit', { name, kind: 'noop' }))
    expect(client.status.queuedCommands).toBe(60)
    const listed = async () =>
      ((await getJson(`${core.url}/api/tasks?limit=1000`, TEST_TOKENS.viewer)).body as { tasks: Task[] }).tasks
    expect((await listed()).filter((t) => t.name.startsWith('queued '))).toEqual([])

    proxy.down(false)
    const answers = await Promise.all(results)
    expect(answers.every((a) => a.ok)).toBe(true)
    const created = (await listed()).filter((t) => t.name.startsWith('queued ')).reverse()
    expect(created.map((t) => t.name)).toEqual(names)
    expect(client.status).toMatchObject({ queuedCommands: 0, pendingCommands: 0 })
  })

  it('refuses a command beyond the queue’s bound with queue_full', async () => {
    const { client } = viewer(proxy.url, { commands: { limit: 3 } })
    proxy.down()
    for (let i = 0; i < 3; i++) void client.command('task:cancel', { taskId: `nope-${i}` })
    expect(await client.command('task:cancel', { taskId: 'one-too-many' })).toMatchObject({
      ok: false,
      error: { code: 'queue_full', message: expect.stringMatching(/3 commands are already waiting/) },
    })
  })

  it('does not resend a command whose link died under it: the caller hears the outcome is unknown', async () => {
    const { client } = viewer(proxy.url, { heartbeat: { intervalMs: 200, timeoutMs: 200 } })
    await until(() => stateOf(client) === 'connected' && client.status.rttMs !== null, 5000, 'connected')
    proxy.blackhole()
    const answer = await client.command('task:submit', { name: 'lost in flight', kind: 'noop' })
    expect(answer).toMatchObject({ ok: false, error: { code: 'unavailable' } })
    expect(!answer.ok && answer.error.message).toMatch(/may or may not have been applied/)
    proxy.blackhole(false)
    await until(() => stateOf(client) === 'connected', 5000, 'connected again')
    await new Promise((resolve) => setTimeout(resolve, 300))
    const { tasks } = (await getJson(`${core.url}/api/tasks?limit=1000`, TEST_TOKENS.viewer)).body as {
      tasks: Task[]
    }
    expect(tasks.filter((t) => t.name === 'lost in flight')).toEqual([])
  })
})
