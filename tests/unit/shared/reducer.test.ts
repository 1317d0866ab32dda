/**
 * The shared reducer's rules, directly. The renderer's store tests
 * (tests/unit/renderer) cover the same rules through the store; these cover
 * what the store does not show: the duplicate count, limits of 0, what the
 * observer is told, an unknown event type, and `replicate` over a client.
 */
import { describe, expect, it } from 'vitest'
import type { DomainEvent } from '../../../src/shared/events'
import { LogTail } from '../../../src/shared/log-tail'
import {
  SWARM_LIMITS,
  applyEvent,
  applyEvents,
  applySnapshot,
  createSwarmState,
  setFinishedLimit,
  type SwarmObserver,
} from '../../../src/shared/reducer'
import { replicate } from '../../../src/shared/client/replica'
import type { DashboardEvents } from '../../../src/shared/client/dashboard-client'
import { T0, agent, sample, snapshot, task } from '../../helpers/factories'

const log = (seq: number, taskId: string, message = `line ${seq}`): DomainEvent => ({
  seq,
  type: 'task:log',
  at: T0 + seq,
  taskId,
  agentId: 'a',
  level: 'info',
  message,
})

describe('the seq rule', () => {
  it('applies each event once, counts what came again, and sorts a batch that is out of order', () => {
    const state = createSwarmState()
    applySnapshot(state, snapshot(10, { agents: [agent('a')] }))

    expect(applyEvent(state, { seq: 10, type: 'agent:removed', at: T0, agentId: 'a' })).toBe(false)
    expect(state.agents.has('a')).toBe(true)
    expect(state.duplicates).toBe(1)

    const applied = applyEvents(state, [
      { seq: 13, type: 'agent:added', at: T0, agent: agent('a', { status: 'busy' }) },
      { seq: 12, type: 'agent:added', at: T0, agent: agent('a', { status: 'paused' }) },
      { seq: 13, type: 'agent:added', at: T0, agent: agent('a', { status: 'error' }) },
    ])
    expect(applied).toBe(2)
    expect(state.agents.get('a')?.status).toBe('busy')
    expect(state.seq).toBe(13)
    expect(state.duplicates).toBe(2)
  })

  it('takes a snapshot whatever its seq (another server process), and keeps the swarm-wide log tail', () => {
    const state = createSwarmState()
    applySnapshot(state, snapshot(50, { tasks: [task('t', 'running')] }))
    applyEvents(state, [log(51, 't')])
    applySnapshot(state, snapshot(3, { agents: [agent('x')] }))
    expect(state.seq).toBe(3)
    expect(state.hasSnapshot).toBe(true)
    expect([...state.agents.keys()]).toEqual(['x'])
    expect(state.tasks.size).toBe(0)
    expect(state.taskLogs.size).toBe(0)
    expect(state.log.lines.map((line) => line.message)).toEqual(['line 51'])
  })

  it('skips an event type this build does not know, and counts its seq as applied', () => {
    const state = createSwarmState()
    const fromNewerServer = { seq: 1, type: 'agent:renamed', at: T0, agentId: 'a' } as unknown as DomainEvent
    expect(applyEvent(state, fromNewerServer)).toBe(true)
    expect(state.seq).toBe(1)
    expect(state.agents.size).toBe(0)
  })
})

describe('bounds', () => {
  it('keeps every active task, drops the oldest finished with its log tail, and re-bounds on a new limit', () => {
    const dropped: string[] = []
    const observer: SwarmObserver = { taskDropped: (t, hadLogs) => dropped.push(`${t.id}${hadLogs ? '+logs' : ''}`) }
    const state = createSwarmState({ finishedTasks: 2 })
    applySnapshot(state, snapshot(0))
    applyEvents(
      state,
      [
        { seq: 1, type: 'task:added', at: T0, task: task('active', 'running') },
        log(2, 'f1'),
        { seq: 3, type: 'task:added', at: T0, task: task('f1', 'failed') },
        { seq: 4, type: 'task:added', at: T0, task: task('f2', 'succeeded') },
        // Retried: it leaves the finished order, and re-enters at the end when it ends again.
        { seq: 5, type: 'task:added', at: T0, task: task('f1', 'queued') },
        { seq: 6, type: 'task:added', at: T0, task: task('f1', 'failed') },
        { seq: 7, type: 'task:added', at: T0, task: task('f3', 'succeeded') },
      ],
      observer,
    )
    expect(dropped).toEqual(['f2'])
    expect([...state.tasks.keys()].sort()).toEqual(['active', 'f1', 'f3'])

    setFinishedLimit(state, 1, observer)
    expect(dropped).toEqual(['f2', 'f1+logs'])
    expect([...state.finished.keys()]).toEqual(['f3'])
    expect(state.tasks.has('active')).toBe(true)
  })

  it('bounds the log tails per task and in number, and keeps nothing for a limit of 0', () => {
    const state = createSwarmState({ logLinesPerTask: 2, logTails: 2 })
    applyEvents(state, [log(1, 'a'), log(2, 'a'), log(3, 'a'), log(4, 'b'), log(5, 'c'), log(6, '')])
    expect(state.taskLogs.get('a')).toBeUndefined()
    expect(state.taskLogs.get('b')?.map((line) => line.seq)).toEqual([4])
    expect(state.taskLogs.get('c')?.map((line) => line.seq)).toEqual([5])
    expect(state.log.lines).toHaveLength(6)

    const none = createSwarmState({ swarmLogLines: 0, logTails: 0 })
    applyEvents(none, [log(1, 'a'), log(2, 'a')])
    expect(none.taskLogs.size).toBe(0)
    expect(none.log.lines).toHaveLength(0)
    expect(none.seq).toBe(2)
  })

  it('keeps metrics samples in time order and alerts by most recent change, both bounded', () => {
    const state = createSwarmState({ metricsSamples: 10, alerts: 2 })
    applySnapshot(state, snapshot(0, { metrics: { current: sample(T0 + 1000), history: [sample(T0)] } }))
    expect(state.metrics.map((s) => s.at)).toEqual([T0, T0 + 1000])
    let seq = 0
    applyEvents(state, [{ seq: ++seq, type: 'metrics', at: T0, sample: sample(T0 + 1000) }])
    expect(state.metrics).toHaveLength(2)
    for (let i = 2; i <= 30; i++)
      applyEvents(state, [{ seq: ++seq, type: 'metrics', at: T0, sample: sample(T0 + i * 1000) }])
    expect(state.metrics.length).toBeLessThanOrEqual(11)
    expect(state.metrics.at(-1)?.at).toBe(T0 + 30_000)

    const alert = (id: string) => ({ id, rule: 'r', severity: 'warning' as const, message: id, at: T0, agentId: null })
    applyEvents(state, [
      { seq: ++seq, type: 'alert', at: T0, alert: alert('x') },
      { seq: ++seq, type: 'alert', at: T0, alert: alert('y') },
      { seq: ++seq, type: 'alert', at: T0, alert: { ...alert('x'), acknowledged: true } },
      { seq: ++seq, type: 'alert', at: T0, alert: alert('z') },
    ] as DomainEvent[])
    expect([...state.alerts.keys()]).toEqual(['x', 'z'])
  })

  it('starts from the documented defaults', () => {
    expect(createSwarmState().limits).toEqual(SWARM_LIMITS)
    expect(SWARM_LIMITS).toMatchObject({ finishedTasks: 500, swarmLogLines: 5000, metricsSamples: 3600, alerts: 200 })
  })
})

describe('partial updates', () => {
  it('merge into the task held: the status group replaces, run figures only when sent, `at` is its time', () => {
    const state = createSwarmState()
    const held = task('t', 'queued', T0, { error: 'attempt 1: boom', attempts: 1 })
    applySnapshot(state, snapshot(0, { tasks: [held] }))
    applyEvents(state, [
      {
        seq: 1,
        type: 'task:status',
        at: T0 + 1,
        taskId: 't',
        status: 'assigned',
        agentId: 'a',
        attempts: 2,
        error: 'attempt 1: boom',
      },
      {
        seq: 2,
        type: 'task:status',
        at: T0 + 2,
        taskId: 't',
        status: 'running',
        agentId: 'a',
        attempts: 2,
        error: 'attempt 1: boom',
        startedAt: T0 + 2,
      },
      { seq: 3, type: 'task:progress', at: T0 + 3, taskId: 't', progress: 0.5 },
    ])
    expect(state.tasks.get('t')).toEqual({
      ...held,
      status: 'running',
      agentId: 'a',
      attempts: 2,
      progress: 0.5,
      startedAt: T0 + 2,
      updatedAt: T0 + 3,
    })
    // No error sent with a status change: the task has none any more.
    applyEvents(state, [
      {
        seq: 4,
        type: 'task:status',
        at: T0 + 4,
        taskId: 't',
        status: 'succeeded',
        agentId: 'a',
        attempts: 2,
        progress: 1,
        finishedAt: T0 + 4,
      },
    ])
    expect(state.tasks.get('t')).toMatchObject({ status: 'succeeded', error: null, progress: 1, finishedAt: T0 + 4 })
    expect([...state.finished.keys()]).toEqual(['t'])
    // The held object was replaced, never changed in place: a holder can compare before and after.
    expect(held.status).toBe('queued')
  })

  it('merge into the agent held, resources figure by figure', () => {
    const state = createSwarmState()
    applySnapshot(state, snapshot(0, { agents: [agent('a', { resources: { cpu: 10, memoryMb: 200 } })] }))
    applyEvents(state, [
      { seq: 1, type: 'agent:status', at: T0 + 1, agentId: 'a', status: 'busy', currentTaskIds: ['t'] },
      { seq: 2, type: 'agent:status', at: T0 + 2, agentId: 'a', lastHeartbeat: T0 + 2, resources: { cpu: 55 } },
      { seq: 3, type: 'agent:status', at: T0 + 3, agentId: 'a', counters: { done: 1, failed: 0 }, kinds: null },
    ])
    expect(state.agents.get('a')).toEqual(
      agent('a', {
        status: 'busy',
        currentTaskIds: ['t'],
        lastHeartbeat: T0 + 2,
        resources: { cpu: 55, memoryMb: 200 },
        counters: { done: 1, failed: 0 },
      }),
    )
  })

  it('for an agent or task not held are skipped and counted, and change nothing', () => {
    const state = createSwarmState()
    applySnapshot(state, snapshot(0))
    const changed: string[] = []
    applyEvents(
      state,
      [
        { seq: 1, type: 'agent:status', at: T0, agentId: 'ghost', status: 'busy' },
        { seq: 2, type: 'task:status', at: T0, taskId: 'gone', status: 'queued', agentId: null, attempts: 2 },
        { seq: 3, type: 'task:progress', at: T0, taskId: 'gone', progress: 0.3 },
      ],
      { agentChanged: (a) => changed.push(a.id), taskChanged: (t) => changed.push(t.id) },
    )
    expect(state.unknown).toBe(3)
    expect(state.seq).toBe(3)
    expect(state.agents.size + state.tasks.size).toBe(0)
    expect(changed).toEqual([])
    // A task that comes back whole (a retry of one the viewer let go) is held again.
    applyEvents(state, [{ seq: 4, type: 'task:added', at: T0, task: task('gone', 'queued') }])
    expect(state.tasks.get('gone')?.status).toBe('queued')
    expect(state.unknown).toBe(3)
  })
})

describe('the observer', () => {
  it('hears each change with the state before it', () => {
    const heard: string[] = []
    const state = createSwarmState()
    applySnapshot(state, snapshot(0, { agents: [agent('a')] }))
    applyEvents(
      state,
      [
        { seq: 1, type: 'agent:added', at: T0, agent: agent('a', { name: 'renamed' }) },
        { seq: 2, type: 'agent:removed', at: T0, agentId: 'a' },
        { seq: 3, type: 'agent:removed', at: T0, agentId: 'ghost' },
        { seq: 4, type: 'task:added', at: T0, task: task('t', 'queued') },
        log(5, 't'),
        { seq: 6, type: 'metrics', at: T0, sample: sample(T0 + 5000) },
      ],
      {
        agentChanged: (next, previous) => heard.push(`agent ${previous?.name} -> ${next.name}`),
        agentRemoved: (id, previous) => heard.push(`removed ${id} ${previous ? 'known' : 'unknown'}`),
        taskChanged: (next, previous) => heard.push(`task ${next.id} ${previous ? 'again' : 'new'}`),
        logAppended: (line) => heard.push(`log ${line.taskId} ${line.agentId}`),
        sampleAdded: (s) => heard.push(`sample ${s.at - T0}`),
      },
    )
    expect(heard).toEqual([
      'agent agent-a -> renamed',
      'removed a known',
      'removed ghost unknown',
      'task t new',
      'log t a',
      'sample 5000',
    ])
  })
})

describe('LogTail', () => {
  it('trims in chunks to its limit and counts what it dropped', () => {
    const tail = new LogTail(100)
    for (let i = 0; i < 111; i++)
      tail.push({ seq: i, at: i, level: 'info', message: String(i), taskId: '', agentId: null })
    expect(tail.lines).toHaveLength(100)
    expect(tail.dropped).toBe(11)
    expect(tail.lines[0]!.seq).toBe(11)
    tail.limit = 10
    tail.trim()
    expect(tail.lines.map((l) => l.seq)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109, 110])
  })
})

describe('replicate', () => {
  it('keeps a state current from a client until stopped', () => {
    const listeners = new Map<string, (value: never) => void>()
    const client = {
      on<K extends keyof DashboardEvents>(event: K, listener: (value: DashboardEvents[K]) => void) {
        listeners.set(event, listener as (value: never) => void)
        return () => listeners.delete(event)
      },
    }
    const emit = <K extends keyof DashboardEvents>(event: K, value: DashboardEvents[K]) =>
      listeners.get(event)?.(value as never)

    const replica = replicate(client)
    emit('snapshot', snapshot(4, { agents: [agent('a')] }))
    emit('events', [{ seq: 5, type: 'agent:removed', at: T0, agentId: 'a' }])
    expect(replica.state.seq).toBe(5)
    expect(replica.state.agents.size).toBe(0)

    replica.stop()
    expect(listeners.size).toBe(0)
  })
})
