/**
 * Per-kind limits in the coordinator, with fake time: a paused kind sends
 * nothing and resuming releases its tasks; `maxRunning` holds a kind at N on
 * agents; `maxPerMinute` is a sliding window whose end wakes a pass by itself;
 * a held kind does not hold the others; queued tasks say what holds them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TaskSubmitSchema, type TaskSubmitRequest } from '../../../src/shared/commands'
import type { Task } from '../../../src/shared/domain'
import { Coordinator, type AgentDriver } from '../../../src/main/core/coordinator/coordinator'
import { KindLimiter } from '../../../src/main/core/coordinator/kind-limits'
import { NO_KIND_LIMITS } from '../../../src/shared/kinds'

const request = (fields: Partial<TaskSubmitRequest> = {}) =>
  TaskSubmitSchema.parse({ name: 'job', kind: 'build', ...fields })

class Driver implements AgentDriver {
  assigned: Task[] = []
  assign(task: Task): void {
    this.assigned.push(task)
  }
  cancel(): void {}
}

function swarm(agents = 4, concurrency = 1) {
  const coordinator = new Coordinator({ emit: () => {} })
  const driver = new Driver()
  for (let i = 0; i < agents; i++) {
    coordinator.addAgent({ id: `a${i}`, name: `a${i}`, kind: 'demo', capabilities: [], concurrency }, driver)
  }
  return { coordinator, driver }
}

const assignedKinds = (driver: Driver) => driver.assigned.map((task) => task.kind)

describe('KindLimiter', () => {
  it('counts a sliding window of 60 s: the oldest dispatch leaving it makes room for one', () => {
    let now = 1_000_000
    const limiter = new KindLimiter({ now: () => now, running: () => new Map(), schedule: () => {} })
    limiter.set('build', { ...NO_KIND_LIMITS, maxPerMinute: 2 })
    limiter.dispatched('build')
    now += 30_000
    limiter.dispatched('build')
    expect(limiter.room('build')).toBe(0)
    expect(limiter.hold('build')).toEqual({ limit: 'maxPerMinute', maxPerMinute: 2, untilMs: 1_060_000 })
    now = 1_059_999
    expect(limiter.room('build')).toBe(0)
    now = 1_060_000
    expect(limiter.room('build')).toBe(1)
    expect(limiter.hold('build')).toBeNull()
    expect(limiter.recent('build')).toBe(1)
  })

  it('forgets a kind set back to its defaults, and the dispatches of a rate that is cleared', () => {
    const limiter = new KindLimiter({ now: () => 0, running: () => new Map([['build', 3]]), schedule: () => {} })
    limiter.set('build', { paused: false, maxRunning: 3, maxPerMinute: 5 })
    limiter.dispatched('build')
    expect(limiter.hold('build')).toEqual({ limit: 'maxRunning', maxRunning: 3 })
    expect(limiter.recent('build')).toBe(1)
    limiter.set('build', NO_KIND_LIMITS)
    expect(limiter.configured().size).toBe(0)
    expect(limiter.hold('build')).toBeNull()
    limiter.set('build', { ...NO_KIND_LIMITS, maxPerMinute: 5 })
    expect(limiter.recent('build')).toBe(0)
  })
})

describe('per-kind limits in dispatch', () => {
  afterEach(() => vi.useRealTimers())

  it('holds a paused kind, lets the others run, and resuming releases it in priority order', async () => {
    vi.useFakeTimers()
    const { coordinator, driver } = swarm(4)
    coordinator.setKindLimits('build', { ...NO_KIND_LIMITS, paused: true })
    const low = coordinator.submit(request({ name: 'low', priority: 1 }))
    const high = coordinator.submit(request({ name: 'high', priority: 5 }))
    coordinator.submit(request({ name: 'other', kind: 'test' }))
    await vi.advanceTimersByTimeAsync(0)
    expect(assignedKinds(driver)).toEqual(['test'])
    expect(coordinator.heldBy(low.id)).toBe('kind build is paused')
    expect(coordinator.listKinds()).toEqual([
      expect.objectContaining({ kind: 'build', paused: true, queued: 2, running: 0, held: { limit: 'paused' } }),
      expect.objectContaining({ kind: 'test', paused: false, queued: 0, running: 1, held: null }),
    ])

    // Back at its defaults: the answer is the kind all the same, though it is listed only while it has tasks.
    expect(coordinator.setKindLimits('build', NO_KIND_LIMITS)).toMatchObject({ kind: 'build', paused: false })
    expect(coordinator.setKindLimits('nothing', NO_KIND_LIMITS)).toEqual({
      kind: 'nothing',
      ...NO_KIND_LIMITS,
      queued: 0,
      running: 0,
      dispatchedLastMinute: 0,
      held: null,
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned.slice(1).map((task) => task.id)).toEqual([high.id, low.id])
    expect(coordinator.heldBy(low.id)).toBeNull()
    coordinator.stop()
  })

  it('keeps at most maxRunning of a kind on agents, the next going when one ends', async () => {
    vi.useFakeTimers()
    const { coordinator, driver } = swarm(4, 2)
    coordinator.setKindLimits('build', { ...NO_KIND_LIMITS, maxRunning: 2 })
    const tasks = Array.from({ length: 5 }, (_, i) => coordinator.submit(request({ name: `b${i}` })))
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned.map((task) => task.id)).toEqual([tasks[0]!.id, tasks[1]!.id])
    expect(coordinator.heldBy(tasks[2]!.id)).toBe('kind build is at its limit of 2 running')

    const first = driver.assigned[0]!
    coordinator.reportSucceeded(first.agentId!, first.id)
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned.map((task) => task.id)).toEqual(tasks.slice(0, 3).map((task) => task.id))
    // Raised: the room is taken at once.
    coordinator.setKindLimits('build', { ...NO_KIND_LIMITS, maxRunning: 4 })
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned).toHaveLength(5)
    coordinator.stop()
  })

  it('sends at most maxPerMinute of a kind in any minute, and wakes by itself when the window allows', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const { coordinator, driver } = swarm(10)
    coordinator.setKindLimits('build', { ...NO_KIND_LIMITS, maxPerMinute: 3 })
    const tasks = Array.from({ length: 7 }, (_, i) => coordinator.submit(request({ name: `b${i}` })))
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned).toHaveLength(3)
    expect(coordinator.heldBy(tasks[3]!.id)).toBe('kind build is at its rate of 3 a minute')
    // The agents finish at once; the rate still holds until the minute is over.
    for (const task of driver.assigned) coordinator.reportSucceeded(task.agentId!, task.id)
    await vi.advanceTimersByTimeAsync(59_999)
    expect(driver.assigned).toHaveLength(3)
    // No event: the timer alone starts the pass.
    await vi.advanceTimersByTimeAsync(1)
    expect(driver.assigned).toHaveLength(6)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(driver.assigned).toHaveLength(7)
    coordinator.stop()
  })

  it('cancels a parked task (it leaves the parked line) and counts parked tasks as queued', async () => {
    vi.useFakeTimers()
    const { coordinator, driver } = swarm(2)
    coordinator.setKindLimits('build', { ...NO_KIND_LIMITS, paused: true })
    const a = coordinator.submit(request({ name: 'a' }))
    const b = coordinator.submit(request({ name: 'b' }))
    await vi.advanceTimersByTimeAsync(0)
    expect(coordinator.counts().queued).toBe(2)
    coordinator.cancel(a.id)
    expect(coordinator.counts().queued).toBe(1)
    coordinator.setKindLimits('build', NO_KIND_LIMITS)
    await vi.advanceTimersByTimeAsync(0)
    expect(driver.assigned.map((task) => task.id)).toEqual([b.id])
    coordinator.stop()
  })
})
