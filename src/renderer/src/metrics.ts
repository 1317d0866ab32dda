/**
 * Figures derived from the metrics samples and tasks the store holds: rates
 * over a window, duration percentiles, chart series. Pure functions, so the
 * store and the unit tests use the same arithmetic.
 */
import type { MetricsSample, TaskSummary } from '../../shared/domain'
import { ranToItsEnd } from './statuses'

export const MINUTE = 60_000

/** Index of the first sample at or after `from` (samples are in time order). */
export function firstAtOrAfter(samples: readonly MetricsSample[], from: number): number {
  let lo = 0
  let hi = samples.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (samples[mid]!.at < from) lo = mid + 1
    else hi = mid
  }
  return lo
}

export interface RecentRates {
  succeededPerMin: number
  failedPerMin: number
  /**
   * Tasks that finished (succeeded, failed or timed out) per second, averaged
   * over the window: the dashboard's throughput figure. The samples' own
   * `throughput` covers one second, too short to read (0, 3, 1, 0 …).
   */
  finishedPerS: number
  /** Succeeded / finished over the window; null when nothing finished. */
  successRate: number | null
  /** The span actually measured (shorter while the history is). */
  spanMs: number
}

/** Per-minute rates over the last `windowMs`, from the cumulative counters of two samples. */
export function recentRates(samples: readonly MetricsSample[], windowMs = MINUTE): RecentRates | null {
  const latest = samples[samples.length - 1]
  if (!latest) return null
  const start = firstAtOrAfter(samples, latest.at - windowMs)
  // The newest sample at or before the window's start, else the oldest one.
  const base = samples[start]?.at === latest.at - windowMs ? samples[start]! : samples[Math.max(0, start - 1)]!
  const spanMs = latest.at - base.at
  if (spanMs <= 0) return null
  const succeeded = Math.max(0, latest.succeeded - base.succeeded)
  const failed = Math.max(0, latest.failed - base.failed)
  const perMin = MINUTE / spanMs
  return {
    succeededPerMin: succeeded * perMin,
    failedPerMin: failed * perMin,
    finishedPerS: ((succeeded + failed) * 1000) / spanMs,
    successRate: succeeded + failed > 0 ? succeeded / (succeeded + failed) : null,
    spanMs,
  }
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

export interface Durations {
  p50: number | null
  p95: number | null
}

/**
 * Run-time percentiles: the server's from the latest sample when it sends
 * them, else computed from the finished tasks this viewer holds (those
 * finished in the last minute).
 */
export function taskDurations(latest: MetricsSample | null, tasks: Iterable<TaskSummary>, now: number): Durations {
  if (latest && latest.durationP50Ms !== undefined) {
    return { p50: latest.durationP50Ms ?? null, p95: latest.durationP95Ms ?? null }
  }
  const values: number[] = []
  for (const task of tasks) {
    if (task.startedAt === null || task.finishedAt === null || task.finishedAt < now - MINUTE) continue
    if (!ranToItsEnd(task.status)) continue
    values.push(task.finishedAt - task.startedAt)
  }
  values.sort((a, b) => a - b)
  return { p50: percentile(values, 0.5), p95: percentile(values, 0.95) }
}

/** Column arrays for uPlot: time in seconds, then one array per figure. */
export interface ChartSeries {
  x: number[]
  throughput: number[]
  failedPerS: (number | null)[]
  queued: number[]
  running: number[]
  p50: (number | null)[]
  p95: (number | null)[]
}

/** The samples of the last `windowMs` (ending at the newest), as chart columns. */
export function chartSeries(samples: readonly MetricsSample[], windowMs: number): ChartSeries {
  const last = samples[samples.length - 1]
  const series: ChartSeries = { x: [], throughput: [], failedPerS: [], queued: [], running: [], p50: [], p95: [] }
  if (!last) return series
  const start = firstAtOrAfter(samples, last.at - windowMs)
  for (let i = start; i < samples.length; i++) {
    const s = samples[i]!
    const prev = i > 0 ? samples[i - 1] : undefined
    series.x.push(s.at / 1000)
    series.throughput.push(s.throughput)
    series.failedPerS.push(prev ? Math.max(0, s.failed - prev.failed) / Math.max(0.001, (s.at - prev.at) / 1000) : null)
    series.queued.push(s.queued)
    series.running.push(s.running)
    series.p50.push(s.durationP50Ms ?? null)
    series.p95.push(s.durationP95Ms ?? null)
  }
  return series
}
