/**
 * Per-kind limits through a real server: `GET /api/kinds` for everyone,
 * `PATCH /api/kinds/:kind` and the `kind:update` command for operators only,
 * audited; a paused kind holds its tasks and resuming releases them;
 * `maxRunning` holds a kind at N across agents (seen from the events a viewer
 * gets); `maxPerMinute` holds the rest of the minute; a queued task's detail
 * says what holds it; bad bodies are refused naming the field, nothing
 * changed; limits survive a restart on SQLite and PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditPage } from '../../src/shared/audit'
import type { DomainEvent } from '../../src/shared/events'
import type { Task, TaskDetail } from '../../src/shared/domain'
import type { KindInfo } from '../../src/shared/kinds'
import { closeAgents, registeredRawAgent, sdkAgent } from '../helpers/agents'
import { connectDashboard, getJson, startCore, TEST_TOKENS, until } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'

type Core = Awaited<ReturnType<typeof startCore>>

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await closeAgents()
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

async function started(argv: string[] = []): Promise<Core> {
  const core = await startCore(['--no-demo', ...argv])
  stops.push(() => core.stop())
  return core
}

async function patch(url: string, kind: string, body: unknown, token = TEST_TOKENS.operator) {
  const response = await fetch(`${url}/api/kinds/${encodeURIComponent(kind)}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

async function kinds(url: string, token = TEST_TOKENS.viewer): Promise<KindInfo[]> {
  const { status, body } = await getJson(`${url}/api/kinds`, token)
  expect(status).toBe(200)
  return (body as { kinds: KindInfo[] }).kinds
}

const submit = (core: Core, name: string, kind = 'build'): Task =>
  core.coordinator.submit({
    name,
    kind,
    payload: {},
    priority: 0,
    capabilities: [],
    timeoutMs: null,
    maxRetries: 0,
  })

const detail = async (core: Core, id: string) =>
  (await getJson(`${core.url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body as TaskDetail

describe('per-kind limits', () => {
  it('holds a paused kind (the detail says so), lets other kinds run, and resuming releases it', async () => {
    const core = await started()
    expect(await kinds(core.url)).toEqual([])
    const paused = await patch(core.url, 'build', { paused: true })
    expect(paused).toMatchObject({ status: 200, body: { kind: 'build', paused: true, held: { limit: 'paused' } } })

    const agent = await registeredRawAgent(core.url, 'w1')
    const assigned: string[] = []
    agent.on('task:assign', ({ task }) => assigned.push(task.name))
    const builds = [submit(core, 'b1'), submit(core, 'b2')]
    submit(core, 't1', 'test')
    await until(() => assigned.length === 1, 5000, 'the test task assigned')
    expect(assigned).toEqual(['t1'])
    expect((await detail(core, builds[0]!.id)).heldBy).toBe('kind build is paused')
    expect(await kinds(core.url)).toEqual([
      expect.objectContaining({ kind: 'build', paused: true, queued: 2, running: 0, held: { limit: 'paused' } }),
      expect.objectContaining({ kind: 'test', paused: false, queued: 0, running: 1, held: null }),
    ])

    expect((await patch(core.url, 'build', { paused: false })).status).toBe(200)
    // The agent runs one at a time (concurrency 1): finishing the test task lets the builds through, in order.
    const t1 = core.coordinator.listTasks({ status: 'assigned' }).tasks[0]!
    await agent.emitWithAck('task:complete', { taskId: t1.id, result: null })
    await until(() => assigned.length === 2, 5000, 'a build assigned')
    expect(assigned[1]).toBe('b1')
    expect((await detail(core, builds[1]!.id)).heldBy).toBeUndefined()
  })

  it('runs one build at a time across three SDK agents with maxRunning 1: never two on agents at once', async () => {
    const core = await started()
    expect((await patch(core.url, 'build', { maxRunning: 1 })).status).toBe(200)
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    stops.push(async () => void socket.close())
    // What a viewer sees (a batch may merge a task's states into its last, never reorder them).
    const kindOf = new Map<string, string>()
    const onAgents = new Set<string>()
    let mostSeen = 0
    socket.on('events', (events: DomainEvent[]) => {
      for (const event of events) {
        const change =
          event.type === 'task:added'
            ? { taskId: event.task.id, status: event.task.status }
            : event.type === 'task:status'
              ? event
              : null
        if (event.type === 'task:added') kindOf.set(event.task.id, event.task.kind)
        if (!change || kindOf.get(change.taskId) !== 'build') continue
        if (change.status === 'assigned' || change.status === 'running') onAgents.add(change.taskId)
        else onAgents.delete(change.taskId)
        mostSeen = Math.max(mostSeen, onAgents.size)
      }
    })
    // What the agents do: builds in their handlers at once.
    let inHandlers = 0
    let mostRun = 0
    let builds = 0
    for (const id of ['s1', 's2', 's3']) {
      sdkAgent(core.url, {
        id,
        handler: async (task) => {
          if (task.kind !== 'build') return null
          mostRun = Math.max(mostRun, ++inHandlers)
          await new Promise((resolve) => setTimeout(resolve, 250))
          inHandlers--
          builds++
          return null
        },
      })
    }
    await until(() => core.coordinator.listAgents().length === 3, 5000, 'three agents')
    const others = [submit(core, 'o1', 'test'), submit(core, 'o2', 'test')]
    const queued = Array.from({ length: 6 }, (_, i) => submit(core, `b${i}`))
    await until(
      () => queued.every((task) => core.coordinator.getTask(task.id)?.status === 'succeeded'),
      10_000,
      'six builds succeeded',
    )
    expect(builds).toBe(6)
    expect(mostRun).toBe(1)
    expect(mostSeen).toBe(1)
    for (const task of others) expect(core.coordinator.getTask(task.id)?.status).toBe('succeeded')
  })

  it('holds maxRunning 3 under load: 600 builds and 300 other tasks through 10 agents, never more than 3 builds held', async () => {
    const core = await started()
    expect((await patch(core.url, 'build', { maxRunning: 3 })).status).toBe(200)
    let holding = 0
    let most = 0
    let done = 0
    for (let i = 0; i < 10; i++) {
      const agent = await registeredRawAgent(core.url, `w${i}`)
      agent.on('task:assign', ({ task }) => {
        if (task.kind === 'build') most = Math.max(most, ++holding)
        setTimeout(() => {
          if (task.kind === 'build') holding--
          void agent.emitWithAck('task:complete', { taskId: task.id, result: null }).then(() => done++)
        }, 1)
      })
    }
    for (let i = 0; i < 600; i++) {
      submit(core, `b${i}`)
      if (i % 2 === 0) submit(core, `o${i}`, 'test')
    }
    await until(() => done === 900, 20_000, 'every task done')
    expect(most).toBe(3)
  }, 30_000)

  it('sends maxPerMinute of a kind, then holds the rest of the minute; clearing the rate releases them', async () => {
    const core = await started()
    expect((await patch(core.url, 'build', { maxPerMinute: 2 })).status).toBe(200)
    const agent = await registeredRawAgent(core.url, 'w1')
    const assigned: string[] = []
    agent.on('task:assign', ({ task }) => {
      assigned.push(task.id)
      void agent.emitWithAck('task:complete', { taskId: task.id, result: null })
    })
    const tasks = Array.from({ length: 4 }, (_, i) => submit(core, `b${i}`))
    await until(() => assigned.length === 2, 5000, 'two builds')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(assigned).toHaveLength(2)
    expect((await detail(core, tasks[2]!.id)).heldBy).toBe('kind build is at its rate of 2 a minute')
    expect((await kinds(core.url))[0]).toMatchObject({ dispatchedLastMinute: 2, held: { limit: 'maxPerMinute' } })
    expect((await patch(core.url, 'build', { maxPerMinute: null })).body).toMatchObject({ maxPerMinute: null })
    await until(() => assigned.length === 4, 5000, 'the rest')
  })

  it('refuses viewers and bad bodies, naming the field, with nothing changed; audits the command both ways', async () => {
    const core = await started()
    await patch(core.url, 'build', { maxRunning: 3 })
    const before = await kinds(core.url)
    expect(await patch(core.url, 'build', { paused: true }, TEST_TOKENS.viewer)).toMatchObject({ status: 403 })
    const cases: [unknown, RegExp][] = [
      [{}, /at least one of paused, maxRunning, maxPerMinute/],
      [{ paused: 'yes' }, /paused/],
      [{ maxRunning: 0 }, /maxRunning/],
      [{ maxRunning: 1.5 }, /maxRunning/],
      [{ maxRunning: 10_001 }, /maxRunning/],
      [{ maxPerMinute: -1 }, /maxPerMinute/],
      [{ maxPerMinute: '10' }, /maxPerMinute/],
      [{ paused: true, colour: 'red' }, /colour/],
      [{ kind: 'other', paused: true }, /kind: give it in the path/],
      [[], /JSON object/],
      ['{"paused": ', /JSON|body/i],
    ]
    for (const [body, message] of cases) {
      const answer = await patch(core.url, 'build', body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect((answer.body as { error: { message: string } }).error.message).toMatch(message)
    }
    expect((await patch(core.url, 'k'.repeat(65), { paused: true })).status).toBe(400)
    // A kind is any text of 1 to 64 characters: one with a slash or a space goes encoded in the path.
    expect(await patch(core.url, 'ci/nightly build', { paused: true })).toMatchObject({
      status: 200,
      body: { kind: 'ci/nightly build', paused: true },
    })
    expect(await patch(core.url, 'ci/nightly build', { paused: false })).toMatchObject({ status: 200 })
    expect(await kinds(core.url)).toEqual(before)

    // The same command over Socket.IO: refused to a viewer, done for an operator.
    const viewer = await connectDashboard(core.url, TEST_TOKENS.viewer)
    const operator = await connectDashboard(core.url, TEST_TOKENS.operator)
    stops.push(async () => {
      viewer.socket.close()
      operator.socket.close()
    })
    const refused = await viewer.socket.emitWithAck('kind:update', { kind: 'build', paused: true })
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    const done = await operator.socket.emitWithAck('kind:update', { kind: 'build', paused: true, maxRunning: null })
    expect(done).toMatchObject({ ok: true, data: { kind: 'build', paused: true, maxRunning: null } })
    // The trail is written in batches: read until the three records are there.
    let page: AuditPage = { entries: [], total: 0, nextCursor: null } as unknown as AuditPage
    for (let i = 0; i < 50 && page.entries.length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      page = (await getJson(`${core.url}/api/audit?action=kind:update`, TEST_TOKENS.operator)).body as AuditPage
    }
    expect(page.entries.map((entry) => [entry.outcome, entry.target, entry.via])).toEqual(
      expect.arrayContaining([
        ['ok', 'build', 'socket'],
        ['refused', 'build', 'socket'],
        ['ok', 'build', 'http'],
      ]),
    )
    expect(page.entries.find((entry) => entry.via === 'socket' && entry.outcome === 'ok')?.message).toBe(
      'paused true, maxRunning none, maxPerMinute none',
    )
  })

  it('keeps limits across a restart (SQLite): a paused kind sends nothing to the next server', async () => {
    const first = await started()
    await patch(first.url, 'build', { paused: true, maxPerMinute: 30 })
    await patch(first.url, 'lint', { maxRunning: 2 })
    await patch(first.url, 'lint', { maxRunning: null })
    const queued = submit(first, 'waits')
    await first.stop()
    stops.length = 0

    const second = await started(['--data-dir', first.dataDir])
    expect(await kinds(second.url)).toEqual([
      expect.objectContaining({ kind: 'build', paused: true, maxRunning: null, maxPerMinute: 30, queued: 1 }),
    ])
    const agent = await registeredRawAgent(second.url, 'w1')
    const assigned: string[] = []
    agent.on('task:assign', ({ task }) => assigned.push(task.id))
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(assigned).toEqual([])
    await patch(second.url, 'build', { paused: false })
    await until(() => assigned.length === 1, 5000, 'the build released')
    expect(assigned).toEqual([queued.id])
  })
})

describe('per-kind limits on PostgreSQL', () => {
  const pg = postgresForSuite()
  afterEach(() => pg().resume())

  it('keeps limits across a restart, and refuses a change the database does not take (nothing applied)', async () => {
    const { url: database } = await pg().createDatabase()
    const first = await started(['--database', database])
    expect((await patch(first.url, 'build', { maxRunning: 2 })).status).toBe(200)
    pg().halt()
    const refused = await patch(first.url, 'build', { paused: true })
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } })
    pg().resume()
    expect((await kinds(first.url))[0]).toMatchObject({ kind: 'build', paused: false, maxRunning: 2 })
    await first.stop()
    stops.length = 0

    const second = await started(['--database', database])
    expect(await kinds(second.url)).toEqual([
      expect.objectContaining({ kind: 'build', paused: false, maxRunning: 2, maxPerMinute: null }),
    ])
  })
})
