/**
 * Samples swarm-wide figures once a second into a bounded history and
 * publishes each sample as a `metrics` event.
 */
import type { MetricsSample, MetricsState } from '../../../shared/domain'
import type { SwarmChange } from '../../../shared/events'
import { ranToItsEnd } from '../../../shared/statuses'
import type { Coordinator } from '../coordinator/coordinator'

export interface SamplerOptions {
  intervalMs?: number
  /** Samples kept: one hour at 1 s by default. */
  historySize?: number
  emit(event: SwarmChange): void
  /** Sees each sample as it is taken (metric-history.ts keeps them for long ranges). */
  onSample?: (sample: MetricsSample) => void
  now?: () => number
}

/** Task run times feed the duration percentiles over this window. */
const DURATION_WINDOW_MS = 60_000
/** Newest run times kept for the percentiles; enough at thousands of tasks a second. */
const DURATION_LIMIT = 10_000

export class MetricsSampler {
  private readonly history: MetricsSample[] = []
  /** Run times of recently finished tasks, oldest first: finish time and ms. */
  private durations: { at: number; ms: number }[] = []
  private timer: NodeJS.Timeout | null = null
  private lastFinished = 0
  private lastAt: number
  private readonly now: () => number

  constructor(
    private readonly coordinator: Coordinator,
    private readonly options: SamplerOptions,
  ) {
    this.now = options.now ?? Date.now
    this.lastAt = this.now()
  }

  start(): void {
    this.lastFinished = this.coordinator.totals.finished
    this.lastAt = this.now()
    this.timer = setInterval(() => this.sample(), this.options.intervalMs ?? 1000)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Takes one sample now, records and publishes it. */
  sample(): MetricsSample {
    const sample = this.measure()
    this.lastFinished = this.coordinator.totals.finished
    this.lastAt = sample.at
    this.history.push(sample)
    const limit = this.options.historySize ?? 3600
    if (this.history.length > limit) this.history.splice(0, this.history.length - limit)
    this.options.emit({ type: 'metrics', at: sample.at, sample })
    this.options.onSample?.(sample)
    return sample
  }

  /**
   * The latest sample and the last `historyLimit` ones; with `olderEveryMs`,
   * also the rest of the history thinned to one sample per that interval
   * (what a viewer's one-hour chart needs, at a fraction of the bytes).
   */
  state(historyLimit = 300, olderEveryMs?: number): MetricsState {
    return metricsState(this.history, this.history.at(-1) ?? this.measure(), historyLimit, olderEveryMs)
  }

  /** Takes note of finished tasks' run times (fed every domain event). */
  observe(event: SwarmChange): void {
    if (event.type !== 'task:status') return
    const { status, startedAt, finishedAt } = event.task
    if (startedAt === null || finishedAt === null) return
    if (!ranToItsEnd(status)) return
    this.durations.push({ at: finishedAt, ms: Math.max(0, finishedAt - startedAt) })
    if (this.durations.length > DURATION_LIMIT * 2) this.durations = this.durations.slice(-DURATION_LIMIT)
  }

  private measure(): MetricsSample {
    const at = this.now()
    const { queued, running, agents } = this.coordinator.counts()
    const { succeeded, failed, finished } = this.coordinator.totals
    const seconds = Math.max(0.001, (at - this.lastAt) / 1000)
    const throughput = Math.round(((finished - this.lastFinished) / seconds) * 100) / 100
    const [durationP50Ms, durationP95Ms] = this.percentiles(at)
    return { at, agents, queued, running, succeeded, failed, throughput, durationP50Ms, durationP95Ms }
  }

  /** Median and 95th percentile of the run times in the window (nearest rank), or nulls. */
  private percentiles(now: number): [number | null, number | null] {
    let first = 0
    while (first < this.durations.length && this.durations[first]!.at < now - DURATION_WINDOW_MS) first++
    if (first > 0) this.durations = this.durations.slice(first)
    const values = this.durations.slice(-DURATION_LIMIT).map((entry) => entry.ms)
    if (values.length === 0) return [null, null]
    values.sort((a, b) => a - b)
    const rank = (p: number) => values[Math.min(values.length - 1, Math.ceil(p * values.length) - 1)]!
    return [rank(0.5), rank(0.95)]
  }
}

/**
 * What a snapshot carries of a sample history: the last `historyLimit` samples whole, and the older ones
 * thinned to one per `olderEveryMs` (none when it is not given). Shared by the sampler and a cluster
 * follower's copy of the leader's samples (cluster/replica.ts).
 */
export function metricsState(
  history: readonly MetricsSample[],
  current: MetricsSample,
  historyLimit: number,
  olderEveryMs?: number,
): MetricsState {
  const recent = history.slice(-historyLimit)
  if (!olderEveryMs || recent.length === history.length) return { current, history: recent }
  const older: MetricsSample[] = []
  let next = Number.NEGATIVE_INFINITY
  for (const sample of history.slice(0, history.length - recent.length)) {
    if (sample.at < next) continue
    older.push(sample)
    next = sample.at + olderEveryMs
  }
  return { current, history: [...older, ...recent] }
}
