import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { StartError } from '../../src/main/core'
import type { Agent, Task, TaskSummary } from '../../src/shared/domain'
import type { DomainEvent } from '../../src/shared/events'
import type { Health, Snapshot } from '../../src/shared/protocol'
import { taskStatusOf } from '../../src/shared/changes'
import { applyEvents, applySnapshot, createSwarmState } from '../../src/shared/reducer'
import {
  TEST_TOKENS,
  connectDashboard,
  dashboardClient,
  getJson,
  postJson,
  refusal,
  startCore,
  until,
  type DashboardSocket,
} from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

const FAST = { agents: 20, tasks: 20, metrics: 20, logs: 20, alerts: 20 }

/** What a viewer holds: the snapshot with every later event applied by the shared reducer; every seq received. */
class ViewerState {
  readonly swarm = createSwarmState()
  seqs: number[] = []
  constructor(snapshot: Snapshot) {
    applySnapshot(this.swarm, snapshot)
  }
  get seq(): number {
    return this.swarm.seq
  }
  get tasks(): Map<string, TaskSummary> {
    return this.swarm.tasks
  }
  get agents(): Map<string, Agent> {
    return this.swarm.agents
  }
  apply(events: DomainEvent[]): void {
    for (const event of events) this.seqs.push(event.seq)
    applyEvents(this.swarm, events)
  }
}

const sockets: DashboardSocket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

describe('live demo swarm over /dashboard', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--demo-agents', '6', '--demo-rate', '40'], { demoSpeed: 0.05, windows: FAST })
  })
  afterAll(() => core.stop())

  it('sends welcome and snapshot on connect, then events in strictly increasing seq after it', async () => {
    const { socket, welcome, snapshot } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket)
    expect(welcome.role).toBe('viewer')
    expect(snapshot.agents).toHaveLength(6)
    const state = new ViewerState(snapshot)
    socket.on('events', (events) => state.apply(events))
    await until(() => state.seqs.length >= 200, 10_000, '200 events')
    expect(state.seqs[0]).toBeGreaterThan(snapshot.seq)
    // Strictly increasing; gaps are states replaced by newer ones within a batch (coalescing).
    state.seqs.forEach((seq, i) => i > 0 && expect(seq).toBeGreaterThan(state.seqs[i - 1]!))
    const statuses = new Set([...state.tasks.values()].map((task) => task.status))
    expect(statuses.has('succeeded')).toBe(true)
  })

  it('answers ping with the server time', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket)
    const before = Date.now()
    const result = await socket.emitWithAck('ping')
    expect(result.ok && result.data.serverTime).toBeGreaterThanOrEqual(before - 5)
  })

  it('replays a gap on sync, or answers a snapshot when the gap is gone', async () => {
    const { socket, snapshot } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const replay = await socket.emitWithAck('sync', { sinceSeq: snapshot.seq })
    expect(replay.ok).toBe(true)
    if (replay.ok && replay.data.kind === 'events') {
      expect(replay.data.events[0]?.seq).toBe(snapshot.seq + 1)
    } else {
      expect.unreachable('a 200 ms gap fits in the buffer')
    }
    const tooOld = await socket.emitWithAck('sync', { sinceSeq: 0 })
    expect(tooOld.ok && tooOld.data.kind).toBe(snapshot.seq > 10_000 ? 'snapshot' : 'events')
    const bad = await socket.emitWithAck('sync', { sinceSeq: -1 } as never)
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } })
  })
})

describe('state over HTTP equals state over the socket', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--demo-agents', '4', '--demo-rate', '0'], { demoSpeed: 0.01, windows: FAST })
  })
  afterAll(() => core.stop())

  it('converges after 60 tasks', async () => {
    const { socket, snapshot } = await connectDashboard(core.url, TEST_TOKENS.operator)
    sockets.push(socket)
    const state = new ViewerState(snapshot)
    socket.on('events', (events) => state.apply(events))
    for (let i = 0; i < 60; i++) {
      const response = await postJson(
        `${core.url}/api/tasks`,
        { name: `job ${i}`, kind: 'report' },
        TEST_TOKENS.operator,
      )
      expect(response.status).toBe(201)
    }
    const finished = () =>
      [...state.tasks.values()].filter((task) => ['succeeded', 'failed'].includes(task.status)).length
    await until(() => finished() === 60, 15_000, 'all 60 tasks finished')
    const { body } = await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)
    const http = body as Snapshot
    await until(() => state.seq >= http.seq, 2000, 'the socket to catch up with the HTTP snapshot')
    const byId = <T extends { id: string }>(items: Iterable<T>) => [...items].sort((a, b) => a.id.localeCompare(b.id))
    expect(byId(state.tasks.values())).toEqual(byId(http.tasks))
    expect(byId(state.agents.values()).map(({ lastHeartbeat: _, ...rest }) => rest)).toEqual(
      byId(http.agents).map(({ lastHeartbeat: _, ...rest }) => rest),
    )
  })
})

describe('payloads and results stay out of the live state', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--demo-agents', '2', '--demo-rate', '0'], { demoSpeed: 0.01, windows: FAST })
  })
  afterAll(() => core.stop())

  it('are in the task detail only: not in snapshots, REST or socket, nor in any event', async () => {
    const { socket, snapshot } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket)
    const state = new ViewerState(snapshot)
    let wire = ''
    const received: DomainEvent[] = []
    socket.on('events', (events) => {
      wire += JSON.stringify(events)
      received.push(...events)
      state.apply(events)
    })
    const marker = `payload-marker-${'x'.repeat(2000)}`
    const created = await postJson(
      `${core.url}/api/tasks`,
      { name: 'carries', kind: 'report', payload: { marker } },
      TEST_TOKENS.operator,
    )
    const id = (created.body as Task).id
    await until(() => ['succeeded', 'failed'].includes(state.tasks.get(id)?.status ?? ''), 10_000, 'the task to end')

    const { body } = await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)
    const held = (body as Snapshot).tasks.find((task) => task.id === id)
    expect(held).toMatchObject({ id, name: 'carries', status: state.tasks.get(id)!.status })
    expect(Object.keys(held!)).not.toContain('payload')
    expect(Object.keys(held!)).not.toContain('result')
    expect(state.tasks.get(id)).toEqual(held)
    expect(JSON.stringify(body)).not.toContain('payload-marker')
    expect(wire).not.toContain('payload-marker')
    expect(wire).not.toMatch(/"(payload|result)":/)
    // Its events are a few hundred bytes each, whatever the task carries.
    const about = received.filter(
      (event) => (taskStatusOf(event)?.taskId ?? ('taskId' in event && event.taskId)) === id,
    )
    expect(about.length).toBeGreaterThan(0)
    for (const event of about) expect(JSON.stringify(event).length).toBeLessThan(400)

    const detail = (await getJson(`${core.url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body as Task
    expect(detail.payload).toEqual({ marker })
    if (detail.status === 'succeeded') expect(detail.result).toEqual({ items: expect.any(Number) })
  })
})

describe('tokens, roles and commands', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--demo-agents', '2', '--demo-rate', '0'], { demoSpeed: 0.01 })
  })
  afterAll(() => core.stop())

  it('refuses a socket without a token, with a wrong one, and an agent token on /dashboard', async () => {
    expect(await refusal(dashboardClient(core.url, undefined))).toBe('unauthorized')
    expect(await refusal(dashboardClient(core.url, 'wrong-token-wrong-token'))).toBe('unauthorized')
    expect(await refusal(dashboardClient(core.url, TEST_TOKENS.agent))).toBe('forbidden')
  })

  it('refuses a browser origin that is not allowed, and admits the server own origin', async () => {
    const evil = dashboardClient(core.url, TEST_TOKENS.viewer, { extraHeaders: { origin: 'https://evil.example' } })
    expect(await refusal(evil)).toMatch(/websocket error|origin/i)
    const own = dashboardClient(core.url, TEST_TOKENS.viewer, { extraHeaders: { origin: core.url } })
    sockets.push(own)
    await new Promise<void>((resolve, reject) => {
      own.once('snapshot', () => resolve())
      own.once('connect_error', reject)
    })
  })

  it('lets a viewer watch but not command, and says why', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket)
    const result = await socket.emitWithAck('task:submit', { name: 'x', kind: 'report' })
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringMatching(/operator/) },
    })
    expect(core.coordinator.listTasks().total).toBe(0)
  })

  it('runs operator commands and validates them, changing nothing on bad input', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.operator)
    sockets.push(socket)
    const bad = await socket.emitWithAck('task:submit', { name: '', kind: 'report', priority: 'high' } as never)
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(/name.*priority/s) },
    })
    expect(core.coordinator.listTasks().total).toBe(0)

    const paused = await socket.emitWithAck('agent:pause', { agentId: 'demo-01' })
    expect(paused).toMatchObject({ ok: true, data: { id: 'demo-01', status: 'paused' } })
    const resumed = await socket.emitWithAck('agent:resume', { agentId: 'demo-01' })
    expect(resumed).toMatchObject({ ok: true, data: { status: 'idle' } })
    const missing = await socket.emitWithAck('agent:pause', { agentId: 'nope' })
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } })

    await socket.emitWithAck('agent:pause', { agentId: 'demo-01' })
    await socket.emitWithAck('agent:pause', { agentId: 'demo-02' })
    const submitted = await socket.emitWithAck('task:submit', { name: 'held', kind: 'report' })
    expect(submitted).toMatchObject({ ok: true, data: { status: 'queued' } })
    const id = submitted.ok ? submitted.data.id : ''
    const cancelled = await socket.emitWithAck('task:cancel', { taskId: id })
    expect(cancelled).toMatchObject({ ok: true, data: { status: 'cancelled' } })
    const retried = await socket.emitWithAck('task:retry', { taskId: id })
    expect(retried).toMatchObject({ ok: true, data: { status: 'queued' } })
    await socket.emitWithAck('agent:resume', { agentId: 'demo-01' })
    await socket.emitWithAck('agent:resume', { agentId: 'demo-02' })
  })

  it('survives a message without an ack and garbage arguments', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.operator)
    sockets.push(socket)
    ;(socket.emit as (...args: unknown[]) => void)('task:submit', { name: 'no ack', kind: 'x' })
    ;(socket.emit as (...args: unknown[]) => void)('task:cancel')
    const result = await socket.emitWithAck('ping')
    expect(result.ok).toBe(true)
  })
})

describe('HTTP API', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  it('answers /healthz without a token', async () => {
    const { status, body } = await getJson(`${core.url}/healthz`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ status: 'ok', version: expect.any(String) } satisfies Partial<Health>)
  })

  it('refuses API calls without a valid token, and agent tokens', async () => {
    for (const token of [undefined, 'nope-nope-nope-nope', TEST_TOKENS.agent]) {
      const { status, body } = await getJson(`${core.url}/api/snapshot`, token)
      expect(status).toBe(token === TEST_TOKENS.agent ? 403 : 401)
      expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } })
    }
    expect((await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)).status).toBe(200)
  })

  it('creates tasks for operators only, validating the body', async () => {
    const created = await postJson(
      `${core.url}/api/tasks`,
      { name: 'a', kind: 'report', priority: 3 },
      TEST_TOKENS.operator,
    )
    expect(created).toMatchObject({ status: 201, body: { status: 'queued', priority: 3, id: expect.any(String) } })
    const viewer = await postJson(`${core.url}/api/tasks`, { name: 'a', kind: 'report' }, TEST_TOKENS.viewer)
    expect(viewer.status).toBe(403)
    const invalid = await postJson(
      `${core.url}/api/tasks`,
      { name: 'a', kind: 'shell', payload: {} },
      TEST_TOKENS.operator,
    )
    expect(invalid).toMatchObject({
      status: 400,
      body: { error: { code: 'bad_request', message: expect.stringMatching(/payload.command/) } },
    })
    const malformed = await postJson(`${core.url}/api/tasks`, '{"name":', TEST_TOKENS.operator)
    expect(malformed.status).toBe(400)
    const huge = await postJson(
      `${core.url}/api/tasks`,
      { name: 'a', kind: 'report', payload: { blob: 'x'.repeat(70_000) } },
      TEST_TOKENS.operator,
    )
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } })
    const { body } = await getJson(`${core.url}/api/tasks`, TEST_TOKENS.viewer)
    expect(body).toMatchObject({ total: 1 })
  })

  it('lists, reads and cancels tasks', async () => {
    const created = await postJson(`${core.url}/api/tasks`, { name: 'b', kind: 'report' }, TEST_TOKENS.operator)
    const id = (created.body as Task).id
    expect((await getJson(`${core.url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body).toMatchObject({
      id,
      name: 'b',
      transitions: [{ status: 'queued', attempt: 0 }],
      logs: [],
      logsDropped: 0,
    })
    expect((await getJson(`${core.url}/api/tasks/nope`, TEST_TOKENS.viewer)).status).toBe(404)
    expect((await getJson(`${core.url}/api/tasks?status=bogus`, TEST_TOKENS.viewer)).status).toBe(400)
    const cancelled = await postJson(`${core.url}/api/tasks/${id}/cancel`, {}, TEST_TOKENS.operator)
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } })
    const again = await postJson(`${core.url}/api/tasks/${id}/cancel`, {}, TEST_TOKENS.operator)
    expect(again.status).toBe(409)
    const list = await getJson(`${core.url}/api/tasks?status=cancelled&limit=5`, TEST_TOKENS.viewer)
    expect(list.body).toMatchObject({ total: 1, tasks: [{ id }], retention: { maxTasks: 100_000, droppedTotal: 0 } })
  })

  it('sends a strict content security policy', async () => {
    const response = await fetch(`${core.url}/healthz`)
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'")
  })

  it('says "port N is already in use" when the port is taken', async () => {
    const port = new URL(core.url).port
    await expect(startCore(['--port', port])).rejects.toThrow(`port ${port} is already in use`)
  })

  it('refuses to start, naming both, when the SQLite addon it is given cannot be loaded', async () => {
    const addon = join(mkdtempSync(join(tmpdir(), 'sm-addon-')), 'better_sqlite3.node')
    writeFileSync(addon, 'not an addon')
    const started = startCore([], { sqliteBinding: addon })
    await expect(started).rejects.toBeInstanceOf(StartError)
    await expect(started).rejects.toThrow(
      /^cannot open the task history \S+swarm\.db with the SQLite addon \S+better_sqlite3\.node: /,
    )
  })
})
