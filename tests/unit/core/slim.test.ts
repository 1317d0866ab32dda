/**
 * What the coordinator's whole states become for viewers (pipeline/slim.ts):
 * a real coordinator announces, the slimmer projects, and each test reads the
 * events a viewer would get.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TaskSubmitSchema } from '../../../src/shared/commands'
import type { Task } from '../../../src/shared/domain'
import type { EventOf, UnsequencedEvent } from '../../../src/shared/events'
import { Coordinator, type AgentDriver } from '../../../src/main/core/coordinator/coordinator'
import { Slimmer } from '../../../src/main/core/pipeline/slim'
import { agent } from '../../helpers/factories'

const idle: AgentDriver = { assign: () => {}, cancel: () => {} }

describe('Slimmer', () => {
  let slim: Slimmer
  let events: UnsequencedEvent[]
  let coordinator: Coordinator

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_800_000_000_000 })
    slim = new Slimmer()
    events = []
    coordinator = new Coordinator({
      emit: (change) => {
        const event = slim.project(change)
        if (event) events.push(event)
      },
      retryBaseMs: 100,
    })
  })
  afterEach(() => {
    coordinator.stop()
    vi.useRealTimers()
  })

  const settle = () => vi.advanceTimersByTimeAsync(0)
  const taskEvents = (taskId: string) =>
    events.filter((event) => ('taskId' in event ? event.taskId === taskId : event.type === 'task:added'))
  const submit = (fields: Record<string, unknown> = {}): Task =>
    coordinator.submit(TaskSubmitSchema.parse({ name: 'job', kind: 'test', maxRetries: 1, ...fields }))

  it('sends a task whole once, without payload or result, then what changed with each status', async () => {
    const task = submit({ payload: { secret: 'x'.repeat(1000) } })
    coordinator.addAgent({ id: 'a1', name: 'a1', kind: 'remote', capabilities: [] }, idle)
    await settle()
    vi.advanceTimersByTime(5)
    coordinator.reportStarted('a1', task.id)
    vi.advanceTimersByTime(5)
    coordinator.reportProgress('a1', task.id, 0.5)
    vi.advanceTimersByTime(5)
    coordinator.reportFailed('a1', task.id, 'boom')
    const now = Date.now()

    const [added, assigned, running, progress, retrying, ...rest] = taskEvents(task.id)
    expect(rest).toEqual([])
    expect(added).toEqual({
      type: 'task:added',
      at: task.createdAt,
      task: expect.not.objectContaining({ payload: expect.anything() }),
    })
    const { payload: _payload, result: _result, ...summary } = task
    expect((added as EventOf<'task:added'>).task).toEqual(summary)
    expect(assigned).toEqual({
      type: 'task:status',
      at: now - 15,
      taskId: task.id,
      status: 'assigned',
      agentId: 'a1',
      attempts: 1,
    })
    expect(running).toEqual({
      type: 'task:status',
      at: now - 10,
      taskId: task.id,
      status: 'running',
      agentId: 'a1',
      attempts: 1,
      startedAt: now - 10,
    })
    expect(progress).toEqual({ type: 'task:progress', at: now - 5, taskId: task.id, progress: 0.5 })
    // Back in the queue for its retry: the error goes with every status change while the task has one.
    expect(retrying).toEqual({
      type: 'task:status',
      at: now,
      taskId: task.id,
      status: 'queued',
      agentId: null,
      attempts: 1,
      error: 'attempt 1: boom',
      progress: 0,
    })
    expect(slim.held.tasks).toBe(1)
  })

  it('forgets a task when it ends, so a retry brings it back whole', async () => {
    const task = submit({ maxRetries: 0 })
    coordinator.addAgent({ id: 'a1', name: 'a1', kind: 'remote', capabilities: [] }, idle)
    await settle()
    coordinator.reportSucceeded('a1', task.id, { big: 'result' })
    expect(taskEvents(task.id).at(-1)).toMatchObject({ type: 'task:status', status: 'succeeded', progress: 1 })
    expect(taskEvents(task.id).at(-1)).toHaveProperty('finishedAt')
    expect(slim.held.tasks).toBe(0)

    coordinator.cancel(submit().id)
    const retried = submit({ maxRetries: 0 })
    await settle()
    coordinator.reportFailed('a1', retried.id, 'no')
    events = []
    coordinator.retry(retried.id)
    expect(taskEvents(retried.id)[0]).toMatchObject({ type: 'task:added', task: { id: retried.id, status: 'queued' } })
  })

  it('sends an agent whole once, then only what changed; nothing when nothing did', () => {
    slim.project({ type: 'agent:status', at: 1, agent: agent('a', { resources: { cpu: 1, memoryMb: 100 } }) })
    expect(
      slim.project({
        type: 'agent:status',
        at: 2,
        agent: agent('a', { lastHeartbeat: 2, resources: { cpu: 7, memoryMb: 100 } }),
      }),
    ).toEqual({ type: 'agent:status', at: 2, agentId: 'a', lastHeartbeat: 2, resources: { cpu: 7 } })
    expect(
      slim.project({
        type: 'agent:status',
        at: 3,
        agent: agent('a', { lastHeartbeat: 2, resources: { cpu: 7, memoryMb: 100 } }),
      }),
    ).toBeNull()
    // A figure set to undefined is as absent as JSON makes it: gone, so the agent goes whole (a merge cannot
    // say "no memoryMb"); and a figure undefined before and after is no change.
    const gone = agent('a', { lastHeartbeat: 2, resources: { cpu: 7, memoryMb: undefined } })
    expect(slim.project({ type: 'agent:status', at: 4, agent: gone })).toEqual({
      type: 'agent:added',
      at: 4,
      agent: gone,
    })
    expect(slim.project({ type: 'agent:status', at: 5, agent: { ...gone, resources: { cpu: 7 } } })).toBeNull()
    // Removed, then back under the same id: whole again.
    slim.project({ type: 'agent:removed', at: 5, agentId: 'a' })
    expect(slim.held.agents).toBe(0)
    expect(slim.project({ type: 'agent:status', at: 6, agent: agent('a') })).toMatchObject({ type: 'agent:added' })
  })

  it('sends a task whole when a field viewers hold as fixed changes', () => {
    const task = submit()
    slim.project({ type: 'task:status', at: 1, task })
    expect(slim.project({ type: 'task:status', at: 2, task: { ...task, priority: 9 } })).toMatchObject({
      type: 'task:added',
      task: { priority: 9 },
    })
  })

  it('keeps a status change within 300 bytes on the wire (ids as the server makes them)', async () => {
    const task = submit({ name: 'render #123456', kind: 'render' })
    coordinator.addAgent({ id: 'demo-0123', name: 'moth-0123', kind: 'demo', capabilities: [] }, idle)
    await settle()
    coordinator.reportStarted('demo-0123', task.id)
    coordinator.reportFailed('demo-0123', task.id, 'exit code 1')
    coordinator.reportLog(null, null, 'info', 'x')
    const changes = taskEvents(task.id).filter((event) => event.type === 'task:status')
    expect(changes.length).toBeGreaterThanOrEqual(3)
    for (const event of changes) {
      // As the socket sends it: in an `events` array, with a seq.
      expect(JSON.stringify({ ...event, seq: 123_456_789 }).length + 1).toBeLessThanOrEqual(300)
    }
  })
})
