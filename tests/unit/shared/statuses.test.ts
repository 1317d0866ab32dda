/**
 * The status rules of src/shared/statuses.ts, which the dashboard uses to
 * offer Cancel and Retry and to count tasks, are the coordinator's own: a
 * task is brought into each status for real and the coordinator is asked.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TaskSubmitSchema } from '../../../src/shared/commands'
import type { Task } from '../../../src/shared/domain'
import {
  TASK_STATUSES,
  isCancellable,
  isFailure,
  isOnAgent,
  isRetryable,
  ranToItsEnd,
  type TaskStatus,
} from '../../../src/shared/statuses'
import { Coordinator, type AgentDriver } from '../../../src/main/core/coordinator/coordinator'

const idle: AgentDriver = { assign: () => {}, cancel: () => {} }
let coordinators: Coordinator[] = []

/** A coordinator holding one task that has reached `status`, the way a real one gets there. */
async function taskIn(status: TaskStatus): Promise<{ coordinator: Coordinator; task: Task }> {
  const coordinator = new Coordinator({ emit: () => {} })
  coordinators.push(coordinator)
  if (status !== 'queued') coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, idle)
  const timeoutMs = status === 'timed_out' ? 1000 : null
  const task = coordinator.submit(TaskSubmitSchema.parse({ name: 'job', kind: 'test', timeoutMs }))
  await vi.advanceTimersByTimeAsync(0)
  if (status === 'running' || status === 'succeeded' || status === 'failed') coordinator.reportStarted('a', task.id)
  if (status === 'succeeded') coordinator.reportSucceeded('a', task.id)
  if (status === 'failed') coordinator.reportFailed('a', task.id, 'exit code 1')
  if (status === 'cancelled') coordinator.cancel(task.id)
  if (status === 'timed_out') await vi.advanceTimersByTimeAsync(1000)
  expect(coordinator.getTask(task.id)?.status).toBe(status)
  return { coordinator, task }
}

const accepts = (action: () => unknown): boolean => {
  try {
    action()
    return true
  } catch {
    return false
  }
}

afterEach(() => {
  for (const coordinator of coordinators) coordinator.stop()
  coordinators = []
  vi.useRealTimers()
})

describe('status rules, as the coordinator applies them', () => {
  it.each(TASK_STATUSES)('%s', async (status) => {
    vi.useFakeTimers()
    const held = await taskIn(status)
    expect(held.coordinator.counts().running).toBe(isOnAgent(status) ? 1 : 0)
    expect(held.coordinator.totals.failed).toBe(isFailure(status) ? 1 : 0)
    expect(accepts(() => held.coordinator.retry(held.task.id))).toBe(isRetryable(status))

    const again = await taskIn(status)
    expect(accepts(() => again.coordinator.cancel(again.task.id))).toBe(isCancellable(status))
  })

  it('count a run time only for tasks that ran to their end', () => {
    expect(TASK_STATUSES.filter(ranToItsEnd)).toEqual(['succeeded', 'failed', 'timed_out'])
  })
})
