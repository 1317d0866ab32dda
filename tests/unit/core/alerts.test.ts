import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Agent, MetricsSample, Task } from '../../../src/shared/domain'
import type { SwarmChange } from '../../../src/shared/events'
import { TaskSubmitSchema } from '../../../src/shared/commands'
import { AlertEngine, type AlertSources } from '../../../src/main/core/alerts/engine'
import { swarmSources } from '../../../src/main/core/alerts/sources'
import { Coordinator, type AgentDriver } from '../../../src/main/core/coordinator/coordinator'
import { MetricsSampler } from '../../../src/main/core/metrics/sampler'
import { runCommand } from '../../../src/main/core/server/operator-commands'
import { sample } from '../../helpers/factories'

const T0 = 1_700_000_000_000

function agent(id: string, overrides: Partial<Agent> = {}): Agent {
  return {
    id,
    name: `agent-${id}`,
    kind: 'remote',
    capabilities: [],
    status: 'idle',
    concurrency: 1,
    kinds: null,
    currentTaskIds: [],
    lastHeartbeat: T0,
    joinedAt: T0,
    counters: { done: 0, failed: 0 },
    resources: null,
    offline: null,
    ...overrides,
  }
}

function task(id: string, overrides: Partial<Task> = {}): Task {
  return {
    id,
    name: `task-${id}`,
    kind: 'test',
    payload: {},
    priority: 0,
    capabilities: [],
    status: 'running',
    agentId: 'a1',
    attempts: 1,
    requeues: 0,
    maxRetries: 0,
    timeoutMs: null,
    progress: 0,
    createdAt: T0,
    updatedAt: T0,
    startedAt: T0,
    finishedAt: null,
    result: null,
    error: null,
    ...overrides,
  }
}

/** A swarm the test edits between evaluations, and an engine reading it on a fake clock. */
function rig(settings = {}) {
  const swarm = { agents: [] as Agent[], tasks: [] as Task[], samples: [] as MetricsSample[] }
  const events: SwarmChange[] = []
  const sources: AlertSources = {
    agents: () => swarm.agents,
    activeTasks: () => swarm.tasks,
    samples: () => swarm.samples,
  }
  const engine = new AlertEngine(sources, { emit: (event) => events.push(event), now: () => Date.now(), settings })
  const alerts = () => events.flatMap((event) => (event.type === 'alert' ? [event.alert] : []))
  /** One sample a second from `from` with the given queue depths and cumulative counts. */
  const samples = (rows: Partial<MetricsSample>[], from = Date.now() - (rows.length - 1) * 1000) =>
    rows.map((row, i) => sample(from + i * 1000, row))
  return { swarm, engine, events, alerts, samples }
}

describe('alert rules on a fake clock', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(T0)
  })
  afterEach(() => vi.useRealTimers())

  it('raises a critical alert when an agent goes offline and resolves it when the agent is back', () => {
    const { swarm, engine, alerts } = rig()
    swarm.agents = [agent('a1'), agent('a2')]
    engine.evaluate()
    expect(alerts()).toEqual([])

    vi.advanceTimersByTime(20_000)
    swarm.agents = [agent('a1', { status: 'offline' }), agent('a2')]
    engine.evaluate()
    engine.evaluate()
    expect(alerts()).toHaveLength(1)
    const raised = alerts()[0]!
    expect(raised).toMatchObject({ rule: 'agent-offline', severity: 'critical', agentId: 'a1', resolvedAt: null })
    expect(raised.message).toMatch(/agent-a1 lost its heartbeat.*20 s ago/)
    expect(engine.list()).toHaveLength(1)

    vi.advanceTimersByTime(5_000)
    swarm.agents = [agent('a1', { status: 'idle' }), agent('a2')]
    engine.evaluate()
    expect(alerts()).toHaveLength(2)
    expect(alerts()[1]).toMatchObject({ id: raised.id, resolvedAt: T0 + 25_000 })

    // Lost again: a new alert, not the resolved one revived.
    swarm.agents = [agent('a1', { status: 'offline' }), agent('a2')]
    engine.evaluate()
    expect(alerts()[2]!.id).not.toBe(raised.id)
  })

  it('raises an error-rate alert over the threshold, escalates it, and clears below the hysteresis line', () => {
    const { swarm, engine, alerts, samples } = rig()
    // 100 finished in the last minute, 20 failed: under the 25 % warning line.
    swarm.samples = samples([
      { succeeded: 0, failed: 0 },
      ...Array.from({ length: 59 }, () => ({ succeeded: 40, failed: 10 })),
      { succeeded: 80, failed: 20 },
    ])
    engine.evaluate()
    expect(alerts()).toEqual([])

    swarm.samples = samples([
      { succeeded: 0, failed: 0 },
      { succeeded: 70, failed: 30 },
    ])
    engine.evaluate()
    expect(alerts()).toHaveLength(1)
    expect(alerts()[0]).toMatchObject({ rule: 'error-rate', severity: 'warning' })
    expect(alerts()[0]!.message).toMatch(/30 % .* failed \(30 of 100\)/)

    // Acknowledged, then worse: critical and unacknowledged again.
    expect(engine.acknowledge(alerts()[0]!.id)).toMatchObject({ acknowledged: true })
    swarm.samples = samples([
      { succeeded: 0, failed: 0 },
      { succeeded: 40, failed: 60 },
    ])
    engine.evaluate()
    expect(alerts().at(-1)).toMatchObject({ severity: 'critical', acknowledged: false, resolvedAt: null })

    // 22 %: under the raise line but above 25 % × 0.8 = 20 %: still active.
    swarm.samples = samples([
      { succeeded: 0, failed: 0 },
      { succeeded: 78, failed: 22 },
    ])
    engine.evaluate()
    expect(alerts().at(-1)).toMatchObject({ severity: 'warning', resolvedAt: null })
    swarm.samples = samples([
      { succeeded: 0, failed: 0 },
      { succeeded: 90, failed: 10 },
    ])
    engine.evaluate()
    expect(alerts().at(-1)!.resolvedAt).toBe(T0)
  })

  it('ignores error rates over too few tasks, and looks back only over its window', () => {
    const { swarm, engine, alerts, samples } = rig()
    swarm.samples = samples([
      { succeeded: 0, failed: 0 },
      { succeeded: 5, failed: 10 },
    ])
    engine.evaluate()
    expect(alerts()).toEqual([])

    // 200 failures two minutes ago, a clean last minute.
    swarm.samples = samples([
      { succeeded: 0, failed: 0 },
      ...Array.from({ length: 60 }, () => ({ succeeded: 0, failed: 200 })),
      ...Array.from({ length: 60 }, (_, i) => ({ succeeded: i * 2, failed: 200 })),
    ])
    engine.evaluate()
    expect(alerts()).toEqual([])
  })

  it('counts from zero while the server is younger than the window', () => {
    const { swarm, engine, alerts, samples } = rig()
    // The first sample, a second after start, already holds the failures.
    swarm.samples = samples([
      { succeeded: 2, failed: 24 },
      { succeeded: 3, failed: 24 },
    ])
    engine.evaluate()
    expect(alerts()[0]).toMatchObject({ rule: 'error-rate', severity: 'critical' })
    expect(alerts()[0]!.message).toBe('89 % of the tasks that finished since the server started failed (24 of 27)')
  })

  it('raises a backlog alert when the queue keeps growing for N samples, and clears when it stops', () => {
    const { swarm, engine, alerts, samples } = rig({ backlogSamples: 10, backlogMinGrowth: 5 })
    swarm.samples = samples(Array.from({ length: 9 }, (_, i) => ({ queued: i * 3 })))
    engine.evaluate()
    expect(alerts()).toEqual([]) // not yet N samples

    // Rising with one dip in nine steps: still growth.
    const rising = [0, 2, 4, 3, 6, 8, 10, 12, 14, 16].map((queued) => ({ queued }))
    swarm.samples = samples(rising)
    engine.evaluate()
    expect(alerts()).toHaveLength(1)
    expect(alerts()[0]).toMatchObject({ rule: 'backlog-growing', severity: 'warning' })
    expect(alerts()[0]!.message).toBe('Queue depth grew from 0 to 16 over the last 9 s')

    // Flat but above where the window started: still held.
    swarm.samples = samples([10, 12, 12, 12, 12, 12, 12, 12, 12, 12].map((queued) => ({ queued })))
    engine.evaluate()
    expect(alerts()).toHaveLength(1)
    // Draining: resolved.
    swarm.samples = samples([16, 15, 14, 13, 12, 11, 10, 9, 8, 8].map((queued) => ({ queued })))
    engine.evaluate()
    expect(alerts()[1]).toMatchObject({ id: alerts()[0]!.id, resolvedAt: T0 })
  })

  it('does not call a noisy, flat queue a growing backlog', () => {
    const { swarm, engine, alerts, samples } = rig({ backlogSamples: 10, backlogMinGrowth: 5 })
    swarm.samples = samples([5, 9, 4, 10, 3, 11, 2, 12, 6, 11].map((queued) => ({ queued })))
    engine.evaluate()
    expect(alerts()).toEqual([])
  })

  it('raises task-stuck past the timeout plus grace, or past the default for tasks without one', () => {
    const { swarm, engine, alerts } = rig({ stuckGraceMs: 5_000, stuckAfterMs: 60_000 })
    swarm.tasks = [
      task('t1', { timeoutMs: 10_000, startedAt: T0 }),
      task('t2', { timeoutMs: null, startedAt: T0 }),
      task('t3', { status: 'assigned', timeoutMs: 10_000, startedAt: null, updatedAt: T0 }),
    ]
    vi.advanceTimersByTime(15_000)
    engine.evaluate()
    expect(alerts()).toEqual([])
    vi.advanceTimersByTime(1)
    engine.evaluate()
    expect(
      alerts()
        .map((a) => a.taskId)
        .sort(),
    ).toEqual(['t1', 't3'])
    expect(alerts()[0]).toMatchObject({ rule: 'task-stuck', severity: 'warning', agentId: 'a1' })
    expect(alerts().find((a) => a.taskId === 't1')!.message).toMatch(/task-t1 has been running for 15 s, past its 10 s/)

    vi.advanceTimersByTime(45_000)
    engine.evaluate()
    expect(alerts().find((a) => a.taskId === 't2')!.message).toMatch(/has no timeout/)

    // t1 finished: its alert resolves; the others hold.
    swarm.tasks = swarm.tasks.filter((t) => t.id !== 't1')
    engine.evaluate()
    const resolved = alerts().filter((a) => a.resolvedAt)
    expect(resolved.map((a) => a.taskId)).toEqual(['t1'])
    expect(engine.list().filter((a) => !a.resolvedAt)).toHaveLength(2)
  })

  it('acknowledges active and resolved alerts once, and knows no others', () => {
    const { swarm, engine, alerts } = rig()
    swarm.agents = [agent('a1', { status: 'offline' })]
    engine.evaluate()
    const id = alerts()[0]!.id
    expect(engine.acknowledge('nope')).toBeNull()
    expect(engine.acknowledge(id)).toMatchObject({ id, acknowledged: true })
    expect(engine.acknowledge(id)).toMatchObject({ id, acknowledged: true })
    expect(alerts()).toHaveLength(2) // raised, acknowledged; the second ack emits nothing
    // Acknowledging does not resolve: still listed as active.
    engine.evaluate()
    expect(engine.list()).toEqual([expect.objectContaining({ id, acknowledged: true, resolvedAt: null })])
  })

  it('keeps a bounded number of resolved alerts', () => {
    const { swarm, engine } = rig()
    const engineWithLimit = new AlertEngine(
      { agents: () => swarm.agents, activeTasks: () => [], samples: () => [] },
      { emit: () => {}, keepResolved: 3 },
    )
    for (let i = 0; i < 10; i++) {
      swarm.agents = [agent(`a${i}`, { status: 'offline' })]
      engineWithLimit.evaluate()
      engine.evaluate()
    }
    swarm.agents = []
    engineWithLimit.evaluate()
    expect(engineWithLimit.list()).toHaveLength(3)
  })

  it('evaluates once a second after start and stops when stopped', () => {
    const { swarm, engine, alerts } = rig()
    swarm.agents = [agent('a1', { status: 'offline' })]
    engine.start()
    vi.advanceTimersByTime(999)
    expect(alerts()).toEqual([])
    vi.advanceTimersByTime(1)
    expect(alerts()).toHaveLength(1)
    engine.stop()
    swarm.agents = []
    vi.advanceTimersByTime(5000)
    expect(alerts()).toHaveLength(1)
  })
})

describe('alerts on the real coordinator and sampler', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(T0)
  })
  afterEach(() => vi.useRealTimers())

  it('sees an offline agent and failing tasks, and acknowledges through the operator command', async () => {
    const events: SwarmChange[] = []
    const emit = (event: SwarmChange) => events.push(event)
    const coordinator = new Coordinator({ emit })
    const sampler = new MetricsSampler(coordinator, { emit })
    const engine = new AlertEngine(swarmSources(coordinator, sampler), { emit, settings: { errorRateMinFinished: 5 } })
    const driver: AgentDriver = { assign: () => {}, cancel: () => {} }
    coordinator.addAgent({ id: 'r1', name: 'remote-1', kind: 'remote', capabilities: [] }, driver)
    sampler.start()
    engine.start()
    // The rule compares samples: failures count from the first one on.
    await vi.advanceTimersByTimeAsync(1000)

    for (let i = 0; i < 6; i++) {
      const t = coordinator.submit(TaskSubmitSchema.parse({ name: `job ${i}`, kind: 'test' }))
      await vi.advanceTimersByTimeAsync(0)
      coordinator.reportStarted('r1', t.id)
      coordinator.reportFailed('r1', t.id, 'boom')
    }
    coordinator.setAgentFault('r1', 'offline')
    await vi.advanceTimersByTimeAsync(2000)

    const raised = engine.list()
    expect(raised.map((a) => [a.rule, a.severity]).sort()).toEqual([
      ['agent-offline', 'critical'],
      ['error-rate', 'critical'],
    ])
    const offline = raised.find((a) => a.rule === 'agent-offline')!
    // alert:ack stores nothing: the history is never asked.
    const history = { durable: async () => {}, outage: () => null }
    const context = {
      coordinator,
      role: 'operator' as const,
      loopback: true,
      allowRemoteShell: false,
      alerts: engine,
      history,
    }
    expect(await runCommand('alert:ack', { alertId: offline.id }, context)).toMatchObject({
      ok: true,
      data: { id: offline.id, acknowledged: true },
    })
    expect(await runCommand('alert:ack', { alertId: 'missing' }, context)).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(await runCommand('alert:ack', { alertId: offline.id }, { ...context, role: 'viewer' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    })
    expect(await runCommand('alert:ack', { id: 1 }, context)).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    })
    const ackEvents = events.filter(
      (e): e is Extract<SwarmChange, { type: 'alert' }> => e.type === 'alert' && e.alert.acknowledged,
    )
    expect(ackEvents.map((e) => e.alert.id)).toEqual([offline.id])

    engine.stop()
    sampler.stop()
    coordinator.stop()
  })
})
