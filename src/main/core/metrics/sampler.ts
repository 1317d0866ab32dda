/**
 * Samples swarm-wide figures once a second into a bounded history and
 * publishes each sample as a `metrics` event.
 */
import type { MetricsSample, MetricsState } from '../../../shared/domain'
import type { UnsequencedEvent } from '../../../shared/events'
import type { Coordinator } from '../coordinator/coordinator'

export interface SamplerOptions {
  intervalMs?: number
  /** Samples kept: one hour at 1 s by default. */
  historySize?: number
  emit(event: UnsequencedEvent): void
  now?: () => number
}

export class MetricsSampler {
  private readonly history: MetricsSample[] = []
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
    return sample
  }

  state(historyLimit = 300): MetricsState {
    const current = this.history.at(-1) ?? this.measure()
    return { current, history: this.history.slice(-historyLimit) }
  }

  private measure(): MetricsSample {
    const at = this.now()
    const { queued, running, agents } = this.coordinator.counts()
    const { succeeded, failed, finished } = this.coordinator.totals
    const seconds = Math.max(0.001, (at - this.lastAt) / 1000)
    const throughput = Math.round(((finished - this.lastFinished) / seconds) * 100) / 100
    return { at, agents, queued, running, succeeded, failed, throughput }
  }
}
