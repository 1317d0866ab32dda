/**
 * The coordinator's dependency rules on long chains: a cascade and a release
 * run as work lists (no recursion), and the bound on finished tasks in memory
 * may take tasks out in the middle of a cascade without losing its tail.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TaskSubmitSchema, type TaskSubmitRequest } from '../../../src/shared/commands'
import type { Task } from '../../../src/shared/domain'
import { Coordinator, type AgentDriver } from '../../../src/main/core/coordinator/coordinator'

const request = (fields: Partial<TaskSubmitRequest> = {}) =>
  TaskSubmitSchema.parse({ name: 'job', kind: 'test', ...fields })

class Driver implements AgentDriver {
  assigned: Task[] = []
  assign(task: Task): void {
    this.assigned.push(task)
  }
  cancel(): void {}
}

describe('dependency chains', () => {
  afterEach(() => vi.useRealTimers())

  it('cancels a chain of 10,000 behind a failure, though the bound of 100 finished tasks takes most of it out on the way', async () => {
    vi.useFakeTimers()
    const coordinator = new Coordinator({ emit: () => {}, maxFinished: 100 })
    const driver = new Driver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [] }, driver)
    const root = coordinator.submit(request({ name: 'root' }))
    const chain: Task[] = [root]
    for (let i = 1; i < 10_000; i++) {
      chain.push(coordinator.submit(request({ name: `step ${i}`, dependsOn: [chain[i - 1]!.id] })))
    }
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned.map((task) => task.id)).toEqual([root.id])

    coordinator.reportFailed('a', root.id, 'boom')
    // The last of the chain ended too, though most of it left memory on the way.
    expect(coordinator.getTask(chain.at(-1)!.id)).toMatchObject({
      status: 'cancelled',
      error: 'dependency step 9998 was cancelled',
      cancelledByDependency: chain.at(-2)!.id,
    })
    expect(coordinator.getTask(chain[1]!.id)).toBeUndefined()
    coordinator.stop()
  })

  it('cancels what waits behind a wide fan-out, though the bound takes the fan-out out of memory first', async () => {
    vi.useFakeTimers()
    const coordinator = new Coordinator({ emit: () => {}, maxFinished: 10 })
    const root = coordinator.submit(request({ name: 'root' }))
    const children = Array.from({ length: 500 }, (_, i) =>
      coordinator.submit(request({ name: `child ${i}`, dependsOn: [root.id] })),
    )
    const grandchildren = children.map((child, i) =>
      coordinator.submit(request({ name: `grandchild ${i}`, dependsOn: [child.id] })),
    )
    coordinator.cancel(root.id)
    const cancelled = grandchildren.filter((task) => coordinator.getTask(task.id)?.status !== 'queued')
    expect(cancelled.length).toBe(500)
    coordinator.stop()
  })

  it('cancels a waiting task by hand, takes what waits for it along, and a retry puts both back to wait', async () => {
    vi.useFakeTimers()
    const coordinator = new Coordinator({ emit: () => {} })
    const first = coordinator.submit(request({ name: 'first' }))
    const middle = coordinator.submit(request({ name: 'middle', dependsOn: [first.id] }))
    const last = coordinator.submit(request({ name: 'last', dependsOn: [middle.id] }))
    coordinator.cancel(middle.id)
    expect(coordinator.getTask(middle.id)).toMatchObject({ status: 'cancelled', error: 'cancelled by operator' })
    expect(coordinator.getTask(last.id)).toMatchObject({
      status: 'cancelled',
      error: 'dependency middle was cancelled',
    })
    expect(coordinator.getTask(first.id)?.status).toBe('queued')

    coordinator.retry(middle.id)
    expect(coordinator.getTask(last.id)?.status).toBe('queued')
    expect(coordinator.getTask(last.id)?.cancelledByDependency).toBeUndefined()
    expect(coordinator.waitingFor(middle.id).map((d) => d.name)).toEqual(['first'])
    expect(coordinator.waitingFor(last.id).map((d) => d.name)).toEqual(['middle'])
    const driver = new Driver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [], concurrency: 4 }, driver)
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned.map((task) => task.name)).toEqual(['first'])
    coordinator.stop()
  })

  it('brings back a whole chain when its failed head is retried, and releases it step by step', async () => {
    vi.useFakeTimers()
    const coordinator = new Coordinator({ emit: () => {} })
    const driver = new Driver()
    coordinator.addAgent({ id: 'a', name: 'a', kind: 'demo', capabilities: [], concurrency: 4 }, driver)
    const chain: Task[] = [coordinator.submit(request({ name: 'head' }))]
    for (let i = 1; i < 2000; i++) {
      chain.push(coordinator.submit(request({ name: `step ${i}`, dependsOn: [chain[i - 1]!.id] })))
    }
    await vi.advanceTimersByTimeAsync(0)
    coordinator.reportFailed('a', chain[0]!.id, 'boom')
    expect(coordinator.getTask(chain[1999]!.id)?.status).toBe('cancelled')

    coordinator.retry(chain[0]!.id)
    expect(chain.every((task) => coordinator.getTask(task.id)?.status === 'queued')).toBe(true)
    expect(coordinator.waitingFor(chain[5]!.id).map((d) => d.id)).toEqual([chain[4]!.id])
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(0)
      expect(driver.assigned.at(-1)!.id).toBe(chain[i]!.id)
      coordinator.reportSucceeded('a', chain[i]!.id)
    }
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned.map((task) => task.name)).toEqual(['head', 'head', 'step 1', 'step 2', 'step 3'])
    coordinator.stop()
  })
})
