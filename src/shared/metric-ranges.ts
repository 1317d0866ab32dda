/**
 * Metric history over long ranges: the ranges the Overview offers, the
 * resolution each is served at, and the one downsampling rule the server's
 * stored tiers and the dashboard's live tail share. Zod-free.
 */
import type { MetricsSample } from './domain'

export const METRIC_RANGES = ['5m', '1h', '24h', '7d'] as const
export type MetricRange = (typeof METRIC_RANGES)[number]

const MINUTE = 60_000

/** How long each range spans and the step its points are apart. */
export const METRIC_RANGE_SPEC: Record<MetricRange, { spanMs: number; stepMs: number }> = {
  '5m': { spanMs: 5 * MINUTE, stepMs: 1000 },
  '1h': { spanMs: 60 * MINUTE, stepMs: 5000 },
  '24h': { spanMs: 24 * 60 * MINUTE, stepMs: MINUTE },
  '7d': { spanMs: 7 * 24 * 60 * MINUTE, stepMs: 10 * MINUTE },
}

/**
 * What the server stores: one-second samples for the last hour, one-minute
 * ones for the last week. A span is served from the finest tier that still
 * covers its start.
 */
export const METRIC_TIERS = [
  { stepMs: 1000, keepMs: 60 * MINUTE },
  { stepMs: MINUTE, keepMs: 7 * 24 * 60 * MINUTE },
] as const

/** Points one answer holds at most; a longer span gets a coarser step. */
export const METRIC_MAX_POINTS = 1500

/** `GET /api/metrics`: the samples of a span, oldest first, `stepMs` apart at most. */
export interface MetricHistory {
  range: MetricRange | null
  from: number
  to: number
  stepMs: number
  samples: MetricsSample[]
}

/** The steps a span may be served at; each a whole multiple of the tiers' steps below it, so buckets line up. */
const STEPS = [1000, 5000, 15_000, MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE, 60 * MINUTE, 6 * 60 * MINUTE]

/** The step to serve `[from, to)` at, `now` being the server's time: the finest tier that covers `from`, coarsened to fit. */
export function stepFor(from: number, to: number, now: number): number {
  const tier = METRIC_TIERS.find((t) => from >= now - t.keepMs) ?? METRIC_TIERS[METRIC_TIERS.length - 1]!
  const span = Math.max(0, to - from)
  const fits = STEPS.find((step) => step >= tier.stepMs && span / step <= METRIC_MAX_POINTS)
  return fits ?? STEPS[STEPS.length - 1]!
}

const round2 = (value: number) => Math.round(value * 100) / 100

/**
 * Samples in buckets of `stepMs` (aligned to multiples of it), one sample a
 * bucket, stamped with the bucket's start: gauges at their highest (queued,
 * running) so a spike stays visible, the agent counts and cumulative
 * counters as at the bucket's end, throughput and the median run time
 * averaged, the 95th percentile at its highest. Samples must be in time
 * order. The stored one-minute tier is downsampled again for longer steps:
 * its averages are then averages of averages, close enough for a chart.
 */
export function downsample(samples: readonly MetricsSample[], stepMs: number): MetricsSample[] {
  const out: MetricsSample[] = []
  let bucket: MetricsSample[] = []
  let start = Number.NaN
  const close = () => {
    if (bucket.length > 0) out.push(merge(bucket, start))
    bucket = []
  }
  for (const sample of samples) {
    const at = Math.floor(sample.at / stepMs) * stepMs
    if (at !== start) {
      close()
      start = at
    }
    bucket.push(sample)
  }
  close()
  return out
}

function merge(bucket: readonly MetricsSample[], at: number): MetricsSample {
  const last = bucket[bucket.length - 1]!
  if (bucket.length === 1) return { ...last, at }
  const p50s = bucket.map((s) => s.durationP50Ms).filter((v): v is number => typeof v === 'number')
  const p95s = bucket.map((s) => s.durationP95Ms).filter((v): v is number => typeof v === 'number')
  return {
    at,
    agents: { ...last.agents },
    queued: Math.max(...bucket.map((s) => s.queued)),
    running: Math.max(...bucket.map((s) => s.running)),
    succeeded: last.succeeded,
    failed: last.failed,
    throughput: round2(bucket.reduce((sum, s) => sum + s.throughput, 0) / bucket.length),
    durationP50Ms: p50s.length ? Math.round(p50s.reduce((a, b) => a + b, 0) / p50s.length) : null,
    durationP95Ms: p95s.length ? Math.max(...p95s) : null,
  }
}
