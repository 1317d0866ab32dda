/**
 * Property: whatever happens in the swarm, and however viewers drop, come
 * back (resuming from their last seq, or by snapshot when the gap has left the
 * buffer) and narrow their subscriptions, once things settle every viewer's
 * state equals the server's, and no event was ever applied twice.
 *
 * The events are slim (partial updates merged into what a viewer holds, the
 * entity whole when a viewer may not hold it), so the swarm's steps include
 * what sends an entity whole again: a retry of a task long finished (beyond
 * the 500 a viewer keeps), agents lost and back, removed and rejoining; and
 * a viewer that never narrowed must never get an update for an entity it
 * does not hold. Operators change kinds' limits and schedules meanwhile
 * (whole states on the `operator` channel), which converge the same way.
 *
 * The viewers hold their state with the shared reducer and its default
 * limits: the same functions and bounds the renderer's swarm store wraps, so
 * this proves the code that ships.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TaskSubmitSchema } from '../../src/shared/commands'
import { applyEvents, applySnapshot, createSwarmState } from '../../src/shared/reducer'
import { isTerminal } from '../../src/shared/statuses'
import { CHANNELS, type Channel } from '../../src/shared/events'
import type { Snapshot } from '../../src/shared/protocol'
import type { Schedule } from '../../src/shared/schedules'
import type { AgentDriver } from '../../src/main/core/coordinator/coordinator'
import { TEST_TOKENS, dashboardClient, getJson, startCore, type DashboardSocket } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

const FAST = { agents: 15, tasks: 15, metrics: 15, logs: 15, alerts: 15, operator: 15 }
const AGENTS = ['p-1', 'p-2', 'p-3', 'p-4']
const idle: AgentDriver = { assign: () => {}, cancel: () => {} }
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

class Viewer {
  state = createSwarmState()
  socket: DashboardSocket | null = null
  channels: Channel[] | null = null
  agentIds: string[] | null = null
  instance: string | null = null
  /** Whether it has received every channel for every agent since its last snapshot. */
  complete = false
  /** Updates for entities it did not hold while complete: a bug in what the server sent. */
  unexplained = 0

  constructor(private readonly url: string) {}

  async connect(): Promise<void> {
    const auth = this.instance
      ? { token: TEST_TOKENS.viewer, sinceSeq: this.state.seq, instance: this.instance }
      : { token: TEST_TOKENS.viewer }
    const socket = dashboardClient(this.url, undefined, { auth })
    socket.on('welcome', (welcome) => (this.instance = welcome.instance))
    socket.on('snapshot', (snapshot) => {
      applySnapshot(this.state, snapshot)
      this.complete = this.agentIds === null && (this.channels === null || this.channels.length === CHANNELS.length)
    })
    socket.on('events', (events) => {
      const before = this.state.unknown
      applyEvents(this.state, events)
      if (this.complete) this.unexplained += this.state.unknown - before
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('welcome', () => resolve())
      socket.once('connect_error', reject)
    })
    this.socket = socket
    if (this.channels)
      await socket.emitWithAck('subscribe', {
        channels: this.channels,
        ...(this.agentIds ? { agentIds: this.agentIds } : {}),
      })
  }

  disconnect(): void {
    this.socket?.disconnect()
    this.socket = null
  }

  async subscribe(channels: Channel[], agentIds: string[] | null): Promise<void> {
    // What a viewer stops receiving it no longer compares; widening brings a snapshot from the server.
    this.channels = channels
    this.agentIds = agentIds
    this.complete = false
    if (this.socket) await this.socket.emitWithAck('subscribe', { channels, ...(agentIds ? { agentIds } : {}) })
  }

  expectConverged(server: Snapshot, retried: boolean): void {
    expect(this.state.duplicates).toBe(0)
    expect(this.unexplained).toBe(0)
    const channels = this.channels ?? ['agents', 'tasks', 'operator']
    if (channels.includes('operator')) {
      expect([...this.state.kinds.values()].sort((a, b) => (a.kind < b.kind ? -1 : 1))).toEqual(server.kinds)
      const held = [...this.state.schedules.values()].sort((a, b) => a.name.localeCompare(b.name))
      expect(held).toEqual(server.schedules)
    }
    if (channels.includes('agents')) {
      const wanted = server.agents.filter((agent) => !this.agentIds || this.agentIds.includes(agent.id))
      for (const agent of wanted) expect(this.state.agents.get(agent.id)).toEqual(agent)
      for (const id of this.state.agents.keys()) {
        if (!this.agentIds || this.agentIds.includes(id)) expect(wanted.some((agent) => agent.id === id)).toBe(true)
      }
    }
    if (channels.includes('tasks')) {
      const finished = server.tasks.filter((task) => isTerminal(task.status))
      for (const task of server.tasks) if (!isTerminal(task.status)) expect(this.state.tasks.get(task.id)).toEqual(task)
      // The finished ones it holds are the server's latest, in the order they finished: all 500 the snapshot has,
      // unless a task was run again, which leaves a gap the viewer cannot fill (it let the older ones go).
      const mine = [...this.state.finished.keys()]
      expect(mine).toEqual(finished.slice(finished.length - mine.length).map((task) => task.id))
      if (!retried) expect(mine).toHaveLength(finished.length)
      for (const id of mine) expect(this.state.tasks.get(id)).toEqual(finished.find((task) => task.id === id))
      expect(this.state.tasks.size).toBe(server.tasks.length - finished.length + mine.length)
    }
  }
}

type Action =
  | { kind: 'submit'; count: number; priority: number; retries: number }
  | { kind: 'retry'; oldest: boolean }
  | { kind: 'cancel' }
  | { kind: 'lose' | 'heal' | 'rejoin' | 'reattach'; agent: number }
  | { kind: 'finish'; ok: boolean }
  | { kind: 'progress' }
  | { kind: 'pause' | 'resume' | 'heartbeat'; agent: number }
  | { kind: 'flood'; count: number }
  | { kind: 'churn'; count: number }
  | { kind: 'drop' | 'return'; viewer: number }
  | { kind: 'narrow'; viewer: number; channels: Channel[]; agents: number[] | null }
  | { kind: 'limit'; which: number; paused: boolean; maxRunning: number | null }
  | { kind: 'schedule'; op: 'create' | 'pause' | 'resume' | 'delete'; which: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant('submit' as const),
    count: fc.integer({ min: 1, max: 8 }),
    priority: fc.integer({ min: 0, max: 3 }),
    retries: fc.integer({ min: 0, max: 1 }),
  }),
  // Run a failed or cancelled task again: the newest, or the oldest (beyond what a viewer keeps, after churn).
  fc.record({ kind: fc.constant('retry' as const), oldest: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel' as const) }),
  fc.record({
    kind: fc.constantFrom('lose' as const, 'heal' as const, 'rejoin' as const, 'reattach' as const),
    agent: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant('finish' as const), ok: fc.boolean() }),
  fc.record({ kind: fc.constant('progress' as const) }),
  fc.record({
    kind: fc.constantFrom('pause' as const, 'resume' as const, 'heartbeat' as const),
    agent: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant('flood' as const), count: fc.integer({ min: 1, max: 120 }) }),
  // Many tasks through to the end: past the 500 finished tasks a viewer keeps, so that bound is proved too.
  fc.record({ kind: fc.constant('churn' as const), count: fc.integer({ min: 50, max: 250 }) }),
  fc.record({ kind: fc.constantFrom('drop' as const, 'return' as const), viewer: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    kind: fc.constant('narrow' as const),
    viewer: fc.integer({ min: 0, max: 2 }),
    channels: fc.subarray([...CHANNELS], { minLength: 1 }),
    agents: fc.option(fc.subarray([0, 1, 2, 3], { minLength: 1 }), { nil: null }),
  }),
  // An operator's limits on a kind (the tasks' 'test', or another), back to the defaults sometimes.
  fc.record({
    kind: fc.constant('limit' as const),
    which: fc.integer({ min: 0, max: 2 }),
    paused: fc.boolean(),
    maxRunning: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  }),
  fc.record({
    kind: fc.constant('schedule' as const),
    op: fc.constantFrom('create' as const, 'pause' as const, 'resume' as const, 'delete' as const),
    which: fc.nat(),
  }),
)

/** An operator's HTTP request to the core; the answer's status must be `expected`. */
async function operate(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TEST_TOKENS.operator}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  expect(response.status, `${method} ${path}`).toBeLessThan(300)
  return response.json()
}

describe('convergence under random events, drops and subscriptions', () => {
  let core: TestCore
  beforeAll(async () => {
    // A small replay buffer, so some resumes fall back to a snapshot.
    core = await startCore(['--no-demo'], { windows: FAST, replayBuffer: 200 })
    for (const id of AGENTS) core.coordinator.addAgent({ id, name: id, kind: 'remote', capabilities: [] }, idle)
  })
  afterAll(() => core.stop())

  it('every viewer ends equal to the server, with no event applied twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 40 }), async (actions) => {
        const viewers = [0, 1, 2].map(() => new Viewer(core.url))
        for (const viewer of viewers) await viewer.connect()
        const coordinator = core.coordinator
        let retried = false
        for (const step of actions) {
          const held = () => [
            ...coordinator.listTasks({ status: 'assigned', limit: 1000 }).tasks,
            ...coordinator.listTasks({ status: 'running', limit: 1000 }).tasks,
          ]
          switch (step.kind) {
            case 'submit':
              for (let i = 0; i < step.count; i++) {
                const request = { name: 'p', kind: 'test', priority: step.priority, maxRetries: step.retries }
                coordinator.submit(TaskSubmitSchema.parse({ ...request, payload: { i } }))
              }
              break
            case 'retry': {
              const ended = [
                ...coordinator.listTasks({ status: 'failed', limit: 100_000 }).tasks,
                ...coordinator.listTasks({ status: 'cancelled', limit: 100_000 }).tasks,
              ].sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
              const task = step.oldest ? ended[0] : ended.at(-1)
              if (task) {
                coordinator.retry(task.id)
                retried = true
              }
              break
            }
            case 'cancel': {
              const task = [...held(), ...coordinator.listTasks({ status: 'queued', limit: 1 }).tasks][0]
              if (task) coordinator.cancel(task.id)
              break
            }
            case 'lose':
            case 'heal':
              coordinator.setAgentFault(AGENTS[step.agent]!, step.kind === 'lose' ? 'offline' : null)
              break
            case 'rejoin': {
              // Gone (its tasks requeued), then back under its id: a new agent to every viewer.
              const id = AGENTS[step.agent]!
              coordinator.removeAgent(id)
              coordinator.addAgent({ id, name: `${id} again`, kind: 'remote', capabilities: [] }, idle)
              break
            }
            case 'reattach': {
              // A reconnect under its id while still listed: the same agent, renamed, its tasks requeued.
              const id = AGENTS[step.agent]!
              coordinator.reattachAgent(
                { id, name: `${id} back`, kind: 'remote', capabilities: [], concurrency: 2 },
                idle,
              )
              break
            }
            case 'finish': {
              const task = held()[0]
              if (task?.agentId) {
                if (step.ok) coordinator.reportSucceeded(task.agentId, task.id, { ok: true })
                else coordinator.reportFailed(task.agentId, task.id, 'no')
              }
              break
            }
            case 'progress':
              for (const task of held()) coordinator.reportProgress(task.agentId!, task.id, Math.random())
              break
            case 'pause':
              coordinator.pauseAgent(AGENTS[step.agent]!)
              break
            case 'resume':
              coordinator.resumeAgent(AGENTS[step.agent]!)
              break
            case 'heartbeat':
              coordinator.heartbeat(AGENTS[step.agent]!, { cpu: Math.round(Math.random() * 100) })
              break
            case 'flood':
              for (let i = 0; i < step.count; i++) coordinator.reportLog(AGENTS[i % 4]!, null, 'info', `line ${i}`)
              break
            case 'churn':
              for (let i = 0; i < step.count; i++)
                coordinator.submit(TaskSubmitSchema.parse({ name: 'c', kind: 'test', priority: 9 }))
              for (let round = 0; round < step.count; round++) {
                await Promise.resolve() // the scheduler assigns in a microtask
                const tasks = held()
                if (tasks.length === 0) break
                for (const task of tasks) coordinator.reportSucceeded(task.agentId!, task.id, { ok: true })
              }
              break
            case 'drop':
              viewers[step.viewer]!.disconnect()
              break
            case 'return':
              if (!viewers[step.viewer]!.socket) await viewers[step.viewer]!.connect()
              break
            case 'limit': {
              // 'test' is the tasks' kind: paused, it holds them; the defaults release them.
              const kind = ['test', 'other', 'third'][step.which]!
              await operate(core.url, 'PATCH', `/api/kinds/${kind}`, {
                paused: step.paused,
                maxRunning: step.maxRunning,
              })
              break
            }
            case 'schedule': {
              const schedules = (await getJson(`${core.url}/api/schedules`, TEST_TOKENS.viewer)).body as {
                schedules: Schedule[]
              }
              const target = schedules.schedules[step.which % Math.max(1, schedules.schedules.length)]
              if (step.op === 'create' || !target) {
                if (schedules.schedules.length >= 10) break
                const task = { name: 'nightly', kind: 'other', payload: { n: step.which } }
                await operate(core.url, 'POST', '/api/schedules', { name: `s${step.which}`, cron: '0 2 * * *', task })
              } else if (step.op === 'delete') await operate(core.url, 'DELETE', `/api/schedules/${target.id}`)
              else await operate(core.url, 'POST', `/api/schedules/${target.id}/${step.op}`)
              break
            }
            case 'narrow': {
              const agentIds = step.agents ? step.agents.map((i) => AGENTS[i]!) : null
              await viewers[step.viewer]!.subscribe(step.channels, agentIds)
              break
            }
          }
          await pause(Math.random() < 0.3 ? 25 : 0)
        }
        for (const viewer of viewers) if (!viewer.socket) await viewer.connect()
        await pause(150)
        const server = (await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)).body as Snapshot
        for (const viewer of viewers) {
          viewer.expectConverged(server, retried)
          viewer.disconnect()
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 12), endOnFailure: true },
    )
  }, 120_000)
})
