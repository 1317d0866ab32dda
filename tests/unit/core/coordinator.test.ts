import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TaskSubmitSchema, type TaskSubmitRequest } from '../../../src/shared/commands'
import type { SwarmChange } from '../../../src/shared/events'
import { Coordinator, CoordinatorError } from '../../../src/main/core/coordinator/coordinator'
import { RecordingDriver } from '../../helpers/factories'

const request = (fields: Partial<TaskSubmitRequest> = {}) =>
  TaskSubmitSchema.parse({ name: 'job', kind: 'test', ...fields })

describe('Coordinator', () => {
  let events: SwarmChange[]
  let coordinator: Coordinator

  beforeEach(() => {
    vi.useFakeTimers()
    events = []
    coordinator = new Coordinator({ emit: (event) => events.push(event), retryBaseMs: 100 })
  })
  afterEach(() => {
    coordinator.stop()
    vi.useRealTimers()
  })

  const settle = () => vi.advanceTimersByTimeAsync(0)
  const statuses = (taskId: string) =>
    events.flatMap((event) => (event.type === 'task:status' && event.task.id === taskId ? [event.task.status] : []))

  it('assigns a queued task to an idle agent whose capabilities cover it', async () => {
    const cpu = new RecordingDriver()
    const gpu = new RecordingDriver()
    coordinator.addAgent({ id: 'a-cpu', name: 'cpu', kind: 'demo', capabilities: ['cpu'] }, cpu)
    coordinator.addAgent({ id: 'a-gpu', name: 'gpu', kind: 'demo', capabilities: ['gpu', 'cpu'] }, gpu)
    const task = coordinator.submit(request({ capabilities: ['gpu'] }))
    await settle()
    expect(gpu.assigned.map((t) => t.id)).toEqual([task.id])
    expect(cpu.assigned).toEqual([])
    expect(coordinator.getAgent('a-gpu')?.status).toBe('busy')
    expect(coordinator.getTask(task.id)).toMatchObject({ status: 'assigned', agentId: 'a-gpu', attempts: 1 })
  })

  it('runs higher priority first and leaves unplaceable tasks queued', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: ['cpu'] }, driver)
    const blocked = coordinator.submit(request({ name: 'needs gpu', capabilities: ['gpu'], priority: 100 }))
    const low = coordinator.submit(request({ name: 'low', priority: 0 }))
    const high = coordinator.submit(request({ name: 'high', priority: 5 }))
    await settle()
    expect(driver.assigned.map((t) => t.id)).toEqual([high.id])
    coordinator.reportSucceeded('a', high.id)
    await settle()
    expect(driver.assigned.map((t) => t.id)).toEqual([high.id, low.id])
    expect(coordinator.getTask(blocked.id)?.status).toBe('queued')
  })

  it('walks a task through running to succeeded and counts it', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    const task = coordinator.submit(request())
    await settle()
    coordinator.reportStarted('a', task.id)
    coordinator.reportProgress('a', task.id, 0.5)
    coordinator.reportSucceeded('a', task.id, { answer: 42 })
    expect(statuses(task.id)).toEqual(['queued', 'assigned', 'running', 'running', 'succeeded'])
    expect(coordinator.getTask(task.id)).toMatchObject({ status: 'succeeded', progress: 1, result: { answer: 42 } })
    expect(coordinator.getAgent('a')).toMatchObject({ status: 'idle', counters: { done: 1, failed: 0 } })
    expect(coordinator.totals).toEqual({ succeeded: 1, failed: 0, finished: 1 })
  })

  it('ignores reports from an agent that does not hold the task', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    coordinator.addAgent({ id: 'b', name: 'b', kind: 'demo', capabilities: ['x'] }, new RecordingDriver())
    const task = coordinator.submit(request())
    await settle()
    coordinator.reportSucceeded('b', task.id)
    coordinator.reportFailed('nobody', task.id, 'no')
    expect(coordinator.getTask(task.id)?.status).toBe('assigned')
  })

  it('retries a failed task with exponential backoff up to maxRetries', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    const task = coordinator.submit(request({ maxRetries: 2 }))
    await settle()
    coordinator.reportFailed('a', task.id, 'boom')
    expect(coordinator.getTask(task.id)).toMatchObject({ status: 'queued', error: 'attempt 1: boom' })
    await vi.advanceTimersByTimeAsync(99)
    expect(driver.assigned).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(driver.assigned).toHaveLength(2)
    coordinator.reportFailed('a', task.id, 'boom')
    await vi.advanceTimersByTimeAsync(199)
    expect(driver.assigned).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(driver.assigned).toHaveLength(3)
    coordinator.reportFailed('a', task.id, 'boom')
    expect(coordinator.getTask(task.id)).toMatchObject({ status: 'failed', attempts: 3, error: 'boom' })
    expect(coordinator.totals.failed).toBe(1)
  })

  it("takes the server's own stable id for a task when given one, and refuses one in use", () => {
    const task = coordinator.submit(request({ name: 'from the swarm file' }), { id: 's-0123456789abcdef01234567' })
    expect(task).toMatchObject({ id: 's-0123456789abcdef01234567', status: 'queued' })
    expect(() => coordinator.submit(request(), { id: task.id })).toThrow(/exists already/)
    expect(coordinator.listTasks().total).toBe(1)
  })

  it('times a task out, cancels it on the agent and frees the agent', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    const task = coordinator.submit(request({ timeoutMs: 1000 }))
    await settle()
    await vi.advanceTimersByTimeAsync(1000)
    expect(coordinator.getTask(task.id)).toMatchObject({ status: 'timed_out', error: 'timed out after 1000 ms' })
    expect(driver.cancelled).toEqual([task.id])
    expect(coordinator.getAgent('a')?.status).toBe('idle')
    // The attempt ended badly on this agent: its counters say so, as its task list does.
    expect(coordinator.getAgent('a')?.counters).toEqual({ done: 0, failed: 1 })
  })

  it('cancels queued and running tasks, and refuses to cancel a finished one', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    const running = coordinator.submit(request())
    const queued = coordinator.submit(request())
    await settle()
    expect(coordinator.cancel(queued.id).status).toBe('cancelled')
    expect(coordinator.cancel(running.id).status).toBe('cancelled')
    expect(driver.cancelled).toEqual([running.id])
    expect(() => coordinator.cancel(running.id)).toThrow(CoordinatorError)
    await settle()
    expect(driver.assigned.map((t) => t.id)).toEqual([running.id])
  })

  it('retries a failed task on request', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    const task = coordinator.submit(request())
    await settle()
    coordinator.reportFailed('a', task.id, 'boom')
    expect(coordinator.retry(task.id).status).toBe('queued')
    await settle()
    expect(driver.assigned).toHaveLength(2)
    coordinator.reportSucceeded('a', task.id)
    expect(() => coordinator.retry(task.id)).toThrow(/only failed/)
  })

  it('gives a paused agent nothing new and resumes it', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    expect(coordinator.pauseAgent('a').status).toBe('paused')
    coordinator.submit(request())
    await settle()
    expect(driver.assigned).toHaveLength(0)
    coordinator.resumeAgent('a')
    await settle()
    expect(driver.assigned).toHaveLength(1)
    expect(() => coordinator.pauseAgent('ghost')).toThrow(/no agent ghost/)
  })

  it('requeues the tasks of an agent that goes offline or leaves, and another agent finishes them', async () => {
    const first = new RecordingDriver()
    const second = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, first)
    const task = coordinator.submit(request())
    await settle()
    coordinator.setAgentFault('a', 'offline')
    expect(coordinator.getTask(task.id)?.status).toBe('queued')
    coordinator.addAgent({ id: 'b', name: 'b', kind: 'demo', capabilities: [] }, second)
    await settle()
    expect(second.assigned.map((t) => t.id)).toEqual([task.id])
    coordinator.reportSucceeded('a', task.id)
    expect(coordinator.getTask(task.id)?.status).toBe('assigned')
    coordinator.removeAgent('b')
    expect(coordinator.getTask(task.id)?.status).toBe('queued')
    expect(events.at(-1)).toMatchObject({ type: 'agent:removed', agentId: 'b' })
  })

  it('runs as many tasks at once as an agent has concurrency', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'local', capabilities: [], concurrency: 3 }, driver)
    for (let i = 0; i < 5; i++) coordinator.submit(request())
    await settle()
    expect(driver.assigned).toHaveLength(3)
    expect(coordinator.getAgent('a')?.currentTaskIds).toHaveLength(3)
    // Each task it takes is announced, busy or not already: the last agent event is what the agent holds.
    const announced = events.flatMap((event) => (event.type === 'agent:status' ? [event.agent] : [])).at(-1)
    expect(announced?.currentTaskIds).toEqual(driver.assigned.map((t) => t.id))
  })

  it('keeps a bounded number of finished tasks', async () => {
    const small = new Coordinator({ emit: () => {}, maxFinished: 3 })
    const driver = new RecordingDriver()
    small.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [], concurrency: 10 }, driver)
    const ids = Array.from({ length: 5 }, () => small.submit(request()).id)
    await vi.advanceTimersByTimeAsync(0)
    for (const id of ids) small.reportSucceeded('a', id)
    expect(small.listTasks().total).toBe(3)
    expect(small.getTask(ids[0]!)).toBeUndefined()
    expect(small.snapshotTasks().map((t) => t.id)).toEqual(ids.slice(2))
    small.stop()
  })

  it('lists tasks newest first with filters and a limit', async () => {
    const driver = new RecordingDriver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    const first = coordinator.submit(request({ name: 'first' }))
    vi.advanceTimersByTime(5)
    const second = coordinator.submit(request({ name: 'second' }))
    await settle()
    expect(coordinator.listTasks().tasks.map((t) => t.id)).toEqual([second.id, first.id])
    expect(coordinator.listTasks({ status: 'queued' })).toMatchObject({ total: 1, tasks: [{ id: second.id }] })
    expect(coordinator.listTasks({ agentId: 'a' }).tasks.map((t) => t.id)).toEqual([first.id])
    expect(coordinator.listTasks({ limit: 1 })).toMatchObject({ total: 2, tasks: [{ id: second.id }] })
  })

  it('fails a task whose driver throws on assign, frees the agent and keeps dispatching', async () => {
    const failures: unknown[] = []
    const guarded = new Coordinator({
      emit: (event) => events.push(event),
      driverFailed: (error) => failures.push(error),
    })
    const calls: string[] = []
    guarded.addAgent(
      { id: 'a', name: 'fragile', kind: 'local', capabilities: [] },
      {
        assign: (task) => {
          calls.push(task.name)
          if (task.name === 'poison') throw new TypeError("The argument 'args[1]' must be a string without null bytes")
        },
        cancel: () => {
          throw new Error('cancel failed too')
        },
      },
    )
    const poison = guarded.submit(request({ name: 'poison' }))
    const fine = guarded.submit(request({ name: 'fine' }))
    await settle()
    expect(guarded.getTask(poison.id)).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('agent fragile could not start this task: The argument'),
    })
    // The agent was freed and took the next task; a throwing cancel does not stop the cancel.
    expect(calls).toEqual(['poison', 'fine'])
    expect(guarded.cancel(fine.id).status).toBe('cancelled')
    expect(guarded.getAgent('a')).toMatchObject({ status: 'idle', currentTaskIds: [] })
    expect(failures).toHaveLength(2)
    guarded.stop()
  })

  it('keeps the ephemeral mark on tasks the server submits as such, never on others', () => {
    const pretend = coordinator.submit(request({ payload: { demo: true } }), { ephemeral: true })
    const real = coordinator.submit(request({ payload: { demo: true } }))
    expect(coordinator.isEphemeral(pretend.id)).toBe(true)
    expect(coordinator.isEphemeral(real.id)).toBe(false)
  })
})
