import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Task } from '../../../src/shared/domain'
import type { SwarmChange } from '../../../src/shared/events'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { MetricsSampler } from '../../../src/main/core/metrics/sampler'

const T0 = 1_700_000_000_000

function finished(id: string, runMs: number, at: number, status: Task['status'] = 'succeeded'): SwarmChange {
  const task = {
    id,
    status,
    startedAt: at - runMs,
    finishedAt: at,
  } as Task
  return { type: 'task:status', at, task }
}

describe('MetricsSampler task durations and history', () => {
  let sampler: MetricsSampler
  let coordinator: Coordinator

  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(T0)
    coordinator = new Coordinator({ emit: () => {} })
    sampler = new MetricsSampler(coordinator, { emit: () => {} })
  })
  afterEach(() => {
    coordinator.stop()
    vi.useRealTimers()
  })

  it('reports p50 and p95 run time of the tasks finished in the last minute', () => {
    expect(sampler.sample()).toMatchObject({ durationP50Ms: null, durationP95Ms: null })
    for (let i = 1; i <= 100; i++) sampler.observe(finished(`t${i}`, i * 10, T0))
    sampler.observe(finished('c', 99_999, T0, 'cancelled'))
    const running = { status: 'running', startedAt: T0, finishedAt: null } as Task
    sampler.observe({ type: 'task:status', at: T0, task: running })
    expect(sampler.sample()).toMatchObject({ durationP50Ms: 500, durationP95Ms: 950 })

    vi.setSystemTime(T0 + 30_000)
    sampler.observe(finished('late', 2000, T0 + 30_000))
    expect(sampler.sample()).toMatchObject({ durationP50Ms: 510, durationP95Ms: 960 })

    // A minute later only the late one is in the window.
    vi.setSystemTime(T0 + 61_000)
    expect(sampler.sample()).toMatchObject({ durationP50Ms: 2000, durationP95Ms: 2000 })
    vi.setSystemTime(T0 + 91_000)
    expect(sampler.sample()).toMatchObject({ durationP50Ms: null, durationP95Ms: null })
  })

  it('thins the history beyond the recent samples when asked', () => {
    for (let i = 0; i < 600; i++) {
      vi.setSystemTime(T0 + i * 1000)
      sampler.sample()
    }
    expect(sampler.state(300).history).toHaveLength(300)
    const thinned = sampler.state(300, 30_000).history
    expect(thinned).toHaveLength(310)
    expect(thinned.slice(0, 10).map((s) => (s.at - T0) / 1000)).toEqual([0, 30, 60, 90, 120, 150, 180, 210, 240, 270])
    expect((thinned[10]!.at - T0) / 1000).toBe(300)
    expect(thinned.every((s, i) => i === 0 || s.at > thinned[i - 1]!.at)).toBe(true)
  })
})
