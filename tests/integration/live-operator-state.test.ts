/**
 * Kinds' limits and schedules pushed live through a real server to a real
 * Socket.IO viewer: an operator's PATCH /api/kinds/:kind, and a schedule
 * created, paused, resumed and deleted over HTTP, each arrive as events on
 * the `operator` channel, and the viewer's state (the shared reducer) then
 * matches GET /api/kinds and GET /api/schedules; a rate that fills its
 * window is pushed with the time it ends; a fresh viewer's snapshot has them;
 * a viewer token changes nothing; a viewer that narrowed to other channels
 * is not sent them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { DomainEvent } from '../../src/shared/events'
import { holdOf, type KindInfo } from '../../src/shared/kinds'
import { applyEvents, applySnapshot, createSwarmState, type SwarmState } from '../../src/shared/reducer'
import { summarizeSchedule, type Schedule } from '../../src/shared/schedules'
import type { AgentDriver } from '../../src/main/core/coordinator/coordinator'
import {
  connectDashboard,
  getJson,
  postJson,
  startCore,
  TEST_TOKENS,
  until,
  type DashboardSocket,
} from '../helpers/core'

type Core = Awaited<ReturnType<typeof startCore>>
const FAST = { agents: 20, tasks: 20, metrics: 20, logs: 20, alerts: 20, operator: 20 }

const stops: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
})

async function started(): Promise<Core> {
  const core = await startCore(['--no-demo'], { windows: FAST })
  stops.push(() => core.stop())
  return core
}

/** A viewer holding the swarm with the shared reducer, and every event it was sent. */
async function viewer(core: Core): Promise<{ state: SwarmState; events: DomainEvent[]; socket: DashboardSocket }> {
  const state = createSwarmState()
  const events: DomainEvent[] = []
  const { socket, snapshot } = await connectDashboard(core.url, TEST_TOKENS.viewer)
  stops.push(() => void socket.disconnect())
  applySnapshot(state, snapshot)
  socket.on('events', (batch) => {
    events.push(...batch)
    applyEvents(state, batch)
  })
  return { state, events, socket }
}

async function send(core: Core, method: string, path: string, body?: unknown, token = TEST_TOKENS.operator) {
  const response = await fetch(`${core.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

async function serverKinds(core: Core): Promise<KindInfo[]> {
  return ((await getJson(`${core.url}/api/kinds`, TEST_TOKENS.viewer)).body as { kinds: KindInfo[] }).kinds
}

async function serverSchedules(core: Core): Promise<Schedule[]> {
  return ((await getJson(`${core.url}/api/schedules`, TEST_TOKENS.viewer)).body as { schedules: Schedule[] }).schedules
}

/** The viewer's kinds equal the server's configured ones: limits, and what holds each by the viewer's count. */
async function expectKindsMatch(core: Core, state: SwarmState): Promise<void> {
  const configured = (await serverKinds(core)).filter(
    (k) => k.paused || k.maxRunning !== null || k.maxPerMinute !== null,
  )
  expect([...state.kinds.keys()].sort()).toEqual(configured.map((k) => k.kind))
  for (const info of configured) {
    const held = state.kinds.get(info.kind)!
    expect({ paused: held.paused, maxRunning: held.maxRunning, maxPerMinute: held.maxPerMinute }).toEqual({
      paused: info.paused,
      maxRunning: info.maxRunning,
      maxPerMinute: info.maxPerMinute,
    })
    expect(holdOf(held, info.running, Date.now())).toEqual(info.held)
  }
}

/** The viewer's schedules equal GET /api/schedules without what runs submit (and the run's live state). */
async function expectSchedulesMatch(core: Core, state: SwarmState): Promise<void> {
  const strip = (s: ReturnType<typeof summarizeSchedule>) => ({
    ...s,
    lastRun: s.lastRun && { ...s.lastRun, state: null },
  })
  const server = (await serverSchedules(core)).map((s) => strip(summarizeSchedule(s)))
  const held = [...state.schedules.values()].sort((a, b) => a.name.localeCompare(b.name)).map(strip)
  expect(held).toEqual(server)
}

describe('kinds and schedules, live to viewers', () => {
  it('pushes each kind change an operator makes, and the viewer then holds what GET /api/kinds says', async () => {
    const core = await started()
    const { state, events } = await viewer(core)
    expect((await send(core, 'PATCH', '/api/kinds/build', { paused: true, maxRunning: 3 })).status).toBe(200)
    await until(() => state.kinds.get('build')?.paused === true, 2000, 'the kind:limits event')
    expect(events.filter((e) => e.type === 'kind:limits')).toEqual([
      expect.objectContaining({ kind: 'build', paused: true, maxRunning: 3, maxPerMinute: null, rateHeldUntil: null }),
    ])
    await expectKindsMatch(core, state)

    // A viewer's token changes nothing, and nothing is pushed.
    expect((await send(core, 'PATCH', '/api/kinds/build', { paused: false }, TEST_TOKENS.viewer)).status).toBe(403)
    // Back at the defaults: the kind leaves what the viewer holds, as it leaves the snapshot.
    expect((await send(core, 'PATCH', '/api/kinds/build', { paused: false, maxRunning: null })).status).toBe(200)
    await until(() => !state.kinds.has('build'), 2000, 'the kind back at its defaults')
    expect(events.filter((e) => e.type === 'kind:limits')).toHaveLength(2)
    await expectKindsMatch(core, state)
  })

  it('pushes the rate filling its window with when it ends, and the viewer says what holds the kind as the server does', async () => {
    const core = await started()
    const idle: AgentDriver = { assign: () => {}, cancel: () => {} }
    core.coordinator.addAgent({ id: 'a1', name: 'a1', kind: 'remote', capabilities: [], concurrency: 5 }, idle)
    const { state } = await viewer(core)
    expect((await send(core, 'PATCH', '/api/kinds/rate', { maxPerMinute: 2 })).status).toBe(200)
    for (let i = 0; i < 3; i++) {
      const submitted = await postJson(`${core.url}/api/tasks`, { name: `r${i}`, kind: 'rate' }, TEST_TOKENS.operator)
      expect(submitted.status).toBe(201)
    }
    await until(() => (state.kinds.get('rate')?.rateHeldUntil ?? 0) > Date.now(), 2000, 'the rate hold')
    const [info] = (await serverKinds(core)).filter((k) => k.kind === 'rate')
    expect(info!.held).toMatchObject({ limit: 'maxPerMinute', maxPerMinute: 2 })
    await expectKindsMatch(core, state)
  })

  it('pushes a schedule created, paused, resumed and deleted; a fresh viewer gets them in its snapshot', async () => {
    const core = await started()
    const { state, events } = await viewer(core)
    const created = await send(core, 'POST', '/api/schedules', {
      name: 'nightly',
      cron: '0 2 * * *',
      task: { name: 'backup', kind: 'shell', payload: { command: 'echo big' } },
    })
    expect(created.status).toBe(201)
    const id = (created.body as Schedule).id
    await until(() => state.schedules.has(id), 2000, 'the schedule event')
    // What a run submits stays on the server.
    expect(state.schedules.get(id)).not.toHaveProperty('task')
    await expectSchedulesMatch(core, state)

    expect((await send(core, 'POST', `/api/schedules/${id}/pause`)).status).toBe(200)
    await until(() => state.schedules.get(id)?.paused === true, 2000, 'the pause')
    expect(state.schedules.get(id)).toMatchObject({ nextRunAt: null, nextRuns: [] })
    await expectSchedulesMatch(core, state)
    expect((await send(core, 'POST', `/api/schedules/${id}/resume`)).status).toBe(200)
    await until(() => state.schedules.get(id)?.paused === false, 2000, 'the resume')
    await expectSchedulesMatch(core, state)

    // Run now: its outcome and the run's task arrive too.
    expect((await send(core, 'POST', `/api/schedules/${id}/run`)).status).toBe(200)
    await until(() => state.schedules.get(id)?.lastRun !== null, 2000, 'the run')
    const run = state.schedules.get(id)!.lastRun!
    expect(run).toMatchObject({ trigger: 'manual', outcome: 'started' })
    expect(state.tasks.has(run.taskId!)).toBe(true)
    await expectSchedulesMatch(core, state)

    // A viewer's token: refused, nothing pushed.
    const before = events.length
    expect((await send(core, 'POST', `/api/schedules/${id}/pause`, undefined, TEST_TOKENS.viewer)).status).toBe(403)

    const fresh = await viewer(core)
    expect([...fresh.state.schedules.keys()]).toEqual([id])
    expect(fresh.state.schedules.get(id)).not.toHaveProperty('workflow')

    expect((await send(core, 'DELETE', `/api/schedules/${id}`)).status).toBe(200)
    await until(() => !state.schedules.has(id) && !fresh.state.schedules.has(id), 2000, 'the removal')
    expect(events.slice(before).filter((e) => e.type === 'schedule:removed')).toHaveLength(1)
    expect(events.slice(before).filter((e) => e.type === 'schedule')).toHaveLength(0)
    await expectSchedulesMatch(core, state)
  })

  it('sends them on the operator channel only: a viewer narrowed to tasks is not sent them', async () => {
    const core = await started()
    const narrowed = await viewer(core)
    await narrowed.socket.emitWithAck('subscribe', { channels: ['tasks'] })
    const whole = await viewer(core)
    expect((await send(core, 'PATCH', '/api/kinds/quiet', { paused: true })).status).toBe(200)
    await until(() => whole.state.kinds.has('quiet'), 2000, 'the event to the whole viewer')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(narrowed.events.some((e) => e.type === 'kind:limits')).toBe(false)
  })
})
