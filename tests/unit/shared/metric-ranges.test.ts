import { describe, expect, it } from 'vitest'
import type { MetricsSample } from '../../../src/shared/domain'
import { downsample, METRIC_MAX_POINTS, METRIC_RANGE_SPEC, stepFor } from '../../../src/shared/metric-ranges'
import { sample as baseSample } from '../../helpers/factories'

/** A sample with one idle agent and no durations, unless given. */
const sample = (at: number, fields: Partial<MetricsSample> = {}): MetricsSample =>
  baseSample(at, {
    agents: { idle: 1, busy: 0, paused: 0, error: 0, offline: 0 },
    durationP50Ms: null,
    durationP95Ms: null,
    ...fields,
  })

describe('downsample', () => {
  it('keeps one sample a bucket, stamped with its start: peaks for gauges, last counters, averaged rates', () => {
    const out = downsample(
      [
        sample(60_000, {
          queued: 3,
          running: 1,
          succeeded: 10,
          failed: 1,
          throughput: 1,
          durationP50Ms: 100,
          durationP95Ms: 300,
        }),
        sample(61_000, {
          queued: 9,
          running: 0,
          succeeded: 12,
          failed: 1,
          throughput: 2,
          durationP50Ms: null,
          durationP95Ms: 900,
        }),
        sample(119_000, {
          queued: 2,
          running: 4,
          succeeded: 15,
          failed: 2,
          throughput: 0,
          durationP50Ms: 200,
          durationP95Ms: 400,
          agents: { idle: 0, busy: 1, paused: 0, error: 0, offline: 0 },
        }),
        sample(120_000, { queued: 1, succeeded: 16, failed: 2, throughput: 1 }),
      ],
      60_000,
    )
    expect(out).toEqual([
      {
        at: 60_000,
        agents: { idle: 0, busy: 1, paused: 0, error: 0, offline: 0 },
        queued: 9,
        running: 4,
        succeeded: 15,
        failed: 2,
        throughput: 1,
        durationP50Ms: 150,
        durationP95Ms: 900,
      },
      sample(120_000, { queued: 1, succeeded: 16, failed: 2, throughput: 1 }),
    ])
  })

  it('gives nothing for nothing and null run times when no sample had any', () => {
    expect(downsample([], 1000)).toEqual([])
    expect(downsample([sample(1000), sample(1500)], 60_000)[0]).toMatchObject({
      at: 0,
      durationP50Ms: null,
      durationP95Ms: null,
    })
  })
})

describe('stepFor and the ranges', () => {
  it('serves each named range within the point budget', () => {
    for (const { spanMs, stepMs } of Object.values(METRIC_RANGE_SPEC))
      expect(spanMs / stepMs).toBeLessThanOrEqual(METRIC_MAX_POINTS)
  })

  it('takes one-second samples while the span starts within the hour, minutes before, coarser to fit', () => {
    const now = 10 * 24 * 3600_000
    expect(stepFor(now - 60_000, now, now)).toBe(1000)
    expect(stepFor(now - 3600_000, now, now)).toBe(5000)
    expect(stepFor(now - 2 * 3600_000, now - 3600_000 - 1, now)).toBe(60_000)
    expect(stepFor(now - 7 * 24 * 3600_000, now, now)).toBe(10 * 60_000)
    expect(stepFor(now - 3 * 24 * 3600_000, now, now)).toBe(5 * 60_000)
  })
})
