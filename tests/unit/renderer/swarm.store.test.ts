import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { Agent, Task } from '../../../src/shared/domain'
import type { DomainEvent } from '../../../src/shared/events'
import { SWARM_LIMITS, useSwarmStore } from '../../../src/renderer/src/stores/swarm'
import { T0, agent, sample, snapshot, task } from '../../helpers/factories'

const agentAdded = (seq: number, a: Agent): DomainEvent => ({ seq, type: 'agent:added', at: T0 + seq, agent: a })
const taskAdded = (seq: number, t: Task): DomainEvent => ({ seq, type: 'task:added', at: T0 + seq, task: t })

describe('swarm store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
  })

  it('replaces its whole state with a snapshot', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(10, { agents: [agent('a'), agent('b')], tasks: [task('t1', 'queued')] }))
    swarm.applyEvents([agentAdded(11, agent('c'))])
    expect(swarm.agents.size).toBe(3)

    swarm.applySnapshot(snapshot(5, { agents: [agent('z')] }))

    expect([...swarm.agents.keys()]).toEqual(['z'])
    expect(swarm.tasks.size).toBe(0)
    expect(swarm.lastSeq).toBe(5)
    expect(swarm.hasSnapshot).toBe(true)
    expect(swarm.metrics.map((s) => s.at)).toEqual([T0])
  })

  it('applies events in order and ignores any event at or below lastSeq', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(10, { agents: [agent('a', { status: 'idle' })] }))

    swarm.applyEvents([agentAdded(9, agent('a', { status: 'error' })), agentAdded(10, agent('a', { status: 'error' }))])
    expect(swarm.agents.get('a')?.status).toBe('idle')

    swarm.applyEvents([agentAdded(11, agent('a', { status: 'busy' }))])
    expect(swarm.agents.get('a')?.status).toBe('busy')
    expect(swarm.lastSeq).toBe(11)

    // The same batch again, e.g. replayed after a reconnect: nothing changes.
    swarm.applyEvents([agentAdded(11, agent('a', { status: 'paused' }))])
    expect(swarm.agents.get('a')?.status).toBe('busy')
    expect(swarm.lastSeq).toBe(11)
  })

  it('applies events whose seq skips numbers (coalesced states, unsubscribed channels) in order', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(10))
    swarm.applyEvents([agentAdded(13, agent('c')), agentAdded(17, agent('d'))])
    expect([...swarm.agents.keys()].sort()).toEqual(['c', 'd'])
    expect(swarm.lastSeq).toBe(17)
  })

  it('sorts a batch that arrives out of order and still applies each event once', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(0))
    swarm.applyEvents([agentAdded(3, agent('a', { status: 'busy' })), agentAdded(2, agent('a', { status: 'idle' }))])
    expect(swarm.agents.get('a')?.status).toBe('busy')
    expect(swarm.lastSeq).toBe(3)
  })

  it('replaces everything with a later snapshot, whatever came before', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(10))
    swarm.applyEvents([agentAdded(500, agent('late'))])
    swarm.applySnapshot(snapshot(3, { agents: [agent('x')] }))
    expect([...swarm.agents.keys()]).toEqual(['x'])
    expect(swarm.lastSeq).toBe(3)
  })

  it('lists agents in natural name order and re-sorts on a rename', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(1, { agents: [agent('x', { name: 'worker-10' }), agent('y', { name: 'worker-2' })] }))
    expect(swarm.agentList.map((a) => a.name)).toEqual(['worker-2', 'worker-10'])

    swarm.applyEvents([agentAdded(2, agent('y', { name: 'worker-20', status: 'busy' }))])

    expect(swarm.agentList.map((a) => a.name)).toEqual(['worker-10', 'worker-20'])
    expect(swarm.agentList[1]?.status).toBe('busy')
    expect(swarm.agentCounts.busy).toBe(1)
  })

  it('merges partial updates into what it holds: lists, counts and resource history follow', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(
      snapshot(1, { agents: [agent('a')], tasks: [task('old', 'queued', T0), task('new', 'queued', T0 + 1)] }),
    )
    swarm.applyEvents([
      { seq: 2, type: 'task:status', at: T0 + 5, taskId: 'old', status: 'running', agentId: 'a', attempts: 1 },
      { seq: 3, type: 'agent:status', at: T0 + 5, agentId: 'a', status: 'busy', currentTaskIds: ['old'] },
      { seq: 4, type: 'agent:status', at: T0 + 6, agentId: 'a', lastHeartbeat: T0 + 6, resources: { cpu: 50 } },
      { seq: 5, type: 'task:progress', at: T0 + 7, taskId: 'old', progress: 0.5 },
    ])
    // The changed task keeps its place (creation order), now running, with the fields it was not sent.
    expect(swarm.taskList.map((t) => [t.id, t.status, t.progress])).toEqual([
      ['new', 'queued', 0],
      ['old', 'running', 0.5],
    ])
    expect(swarm.tasks.get('old')).toMatchObject({ name: 'task-old', agentId: 'a', updatedAt: T0 + 7 })
    expect(swarm.agentCounts.busy).toBe(1)
    expect(swarm.agents.get('a')).toMatchObject({ status: 'busy', currentTaskIds: ['old'], name: 'agent-a' })
    expect(swarm.resourcesOf('a')).toEqual([{ at: T0 + 6, cpu: 50, memoryMb: null }])
  })

  it('removes an agent on agent:removed', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(1, { agents: [agent('a'), agent('b')] }))

    swarm.applyEvents([{ seq: 2, type: 'agent:removed', at: T0, agentId: 'a' }])

    expect([...swarm.agents.keys()]).toEqual(['b'])
    expect(swarm.agentList.map((a) => a.id)).toEqual(['b'])
  })

  it('keeps every active task and only the latest finished ones', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(0))
    const extra = 30
    const events: DomainEvent[] = [taskAdded(1, task('active-1', 'running')), taskAdded(2, task('active-2', 'queued'))]
    for (let i = 0; i < SWARM_LIMITS.finishedTasks + extra; i++) {
      events.push(taskAdded(events.length + 1, task(`done-${i}`, i % 2 ? 'failed' : 'succeeded', T0 + i)))
    }
    swarm.applyEvents(events)

    expect(swarm.tasks.size).toBe(SWARM_LIMITS.finishedTasks + 2)
    expect(swarm.tasks.has('active-1')).toBe(true)
    expect(swarm.tasks.has('active-2')).toBe(true)
    expect(swarm.tasks.has('done-0')).toBe(false)
    expect(swarm.tasks.has(`done-${extra - 1}`)).toBe(false)
    expect(swarm.tasks.has(`done-${extra}`)).toBe(true)
  })

  it('bounds a snapshot the same way, keeping the most recently finished', () => {
    const swarm = useSwarmStore()
    const tasks = [task('q', 'queued')]
    for (let i = 0; i < SWARM_LIMITS.finishedTasks + 5; i++) tasks.push(task(`f-${i}`, 'succeeded', T0 + i))
    swarm.applySnapshot(snapshot(1, { tasks }))

    expect(swarm.tasks.size).toBe(SWARM_LIMITS.finishedTasks + 1)
    expect(swarm.tasks.has('q')).toBe(true)
    expect(swarm.tasks.has('f-4')).toBe(false)
    expect(swarm.tasks.has('f-5')).toBe(true)
  })

  it('keeps a bounded log tail per task and a bounded metrics history', () => {
    const swarm = useSwarmStore()
    swarm.applySnapshot(snapshot(0))
    const events: DomainEvent[] = []
    for (let i = 1; i <= SWARM_LIMITS.logLinesPerTask + 10; i++) {
      events.push({
        seq: i,
        type: 'task:log',
        at: T0 + i,
        taskId: 't',
        agentId: null,
        level: 'info',
        message: `line ${i}`,
      })
    }
    swarm.applyEvents(events)
    const tail = swarm.logsOf('t')
    expect(tail).toHaveLength(SWARM_LIMITS.logLinesPerTask)
    expect(tail[tail.length - 1]?.message).toBe(`line ${SWARM_LIMITS.logLinesPerTask + 10}`)

    const metrics: DomainEvent[] = []
    let seq = swarm.lastSeq
    for (let i = 1; i <= SWARM_LIMITS.metricsSamples + 100; i++) {
      metrics.push({ seq: ++seq, type: 'metrics', at: T0 + i * 1000, sample: sample(T0 + i * 1000, { throughput: i }) })
    }
    swarm.applyEvents(metrics)
    expect(swarm.metrics.length).toBeLessThanOrEqual(SWARM_LIMITS.metricsSamples + 60)
    expect(swarm.latestSample?.throughput).toBe(SWARM_LIMITS.metricsSamples + 100)
  })

  it('applies queued events together on the next frame', async () => {
    vi.useFakeTimers()
    try {
      const swarm = useSwarmStore()
      swarm.applySnapshot(snapshot(0))
      swarm.enqueueEvents([agentAdded(1, agent('a'))])
      swarm.enqueueEvents([agentAdded(2, agent('b'))])
      expect(swarm.agents.size).toBe(0)
      await vi.advanceTimersByTimeAsync(200)
      expect(swarm.agents.size).toBe(2)
      expect(swarm.lastSeq).toBe(2)
    } finally {
      vi.useRealTimers()
    }
  })
})
