import { describe, expect, it } from 'vitest'
import { chartSeries, firstAtOrAfter, percentile, recentRates } from '../../../src/renderer/src/metrics'
import { sample } from '../../helpers/factories'

const T0 = 1_700_000_000_000

describe('renderer metrics arithmetic', () => {
  const samples = Array.from({ length: 121 }, (_, i) =>
    sample(T0 + i * 1000, { succeeded: i * 2, failed: i, queued: i % 7, durationP50Ms: i * 10 }),
  )

  it('finds the first sample at or after a time', () => {
    expect(firstAtOrAfter(samples, T0 - 1)).toBe(0)
    expect(firstAtOrAfter(samples, T0 + 60_000)).toBe(60)
    expect(firstAtOrAfter(samples, T0 + 60_001)).toBe(61)
    expect(firstAtOrAfter(samples, T0 + 10 ** 9)).toBe(121)
  })

  it('measures per-minute rates over the last minute, or over what history there is', () => {
    expect(recentRates(samples)).toEqual({
      succeededPerMin: 120,
      failedPerMin: 60,
      finishedPerS: 3,
      successRate: 2 / 3,
      spanMs: 60_000,
    })
    expect(recentRates(samples.slice(0, 31))).toMatchObject({ succeededPerMin: 120, spanMs: 30_000 })
    expect(recentRates(samples.slice(0, 1))).toBeNull()
    expect(recentRates([])).toBeNull()
    const idle = [sample(T0, { succeeded: 5 }), sample(T0 + 60_000, { succeeded: 5 })]
    expect(recentRates(idle)).toMatchObject({ succeededPerMin: 0, successRate: null })
  })

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeNull()
    expect(percentile([7], 0.95)).toBe(7)
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(values, 0.5)).toBe(50)
    expect(percentile(values, 0.95)).toBe(95)
  })

  it('builds chart columns for the window, with failures per second from the counters', () => {
    const series = chartSeries(samples, 5000)
    expect(series.x).toEqual([115, 116, 117, 118, 119, 120].map((i) => (T0 + i * 1000) / 1000))
    expect(series.failedPerS).toEqual([1, 1, 1, 1, 1, 1])
    expect(series.p50).toEqual([1150, 1160, 1170, 1180, 1190, 1200])
    expect(chartSeries(samples.slice(0, 1), 5000).failedPerS).toEqual([null])
    expect(chartSeries([], 5000).x).toEqual([])
  })
})
