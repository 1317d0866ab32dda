/**
 * Metric samples beyond the sampler's hour in memory, kept in the database
 * (operator-store.ts) in two tiers (`METRIC_TIERS`): every one-second sample
 * for an hour, one a minute (shared/metric-ranges.ts `downsample`) for a
 * week. Samples are written every `flushMs` (10 s: a crash loses at most
 * that of the one-second tier, and the minute under way); each completed
 * minute is written with them. A restart therefore keeps the charts, with a
 * gap for the time the server was down.
 */
import type { MetricsSample } from '../../../shared/domain'
import {
  downsample,
  METRIC_RANGE_SPEC,
  METRIC_TIERS,
  stepFor,
  type MetricHistory,
  type MetricRange,
} from '../../../shared/metric-ranges'
import type { OperatorStore } from '../storage/operator-store'

const [SECONDS, MINUTES] = METRIC_TIERS
const PRUNE_EVERY_MS = 10 * 60_000

export interface MetricHistoryOptions {
  /** What it says about the database (a pino logger is one). */
  logger: { info(fields: object, message: string): void; warn(fields: object, message: string): void }
  /** How long samples wait to be written together; default 10 s. */
  flushMs?: number
  now?: () => number
}

/** A span asked for: a named range ending now, or `from`/`to` (epoch ms). */
export type MetricSpan = { range: MetricRange } | { from: number; to: number }

export class MetricsHistory {
  /** Tier samples not written yet, per tier step. */
  private readonly pending = new Map<number, MetricsSample[]>([
    [SECONDS.stepMs, []],
    [MINUTES.stepMs, []],
  ])
  /** The one-second samples of the minute under way. */
  private minute: MetricsSample[] = []
  private flushTimer: NodeJS.Timeout | null = null
  private pruneTimer: NodeJS.Timeout | null = null
  private writing: Promise<void> | null = null
  private failing = false
  private state: 'new' | 'open' | 'closed' = 'new'
  private readonly now: () => number

  constructor(
    private readonly store: OperatorStore,
    private readonly options: MetricHistoryOptions,
  ) {
    this.now = options.now ?? Date.now
  }

  /** Takes the sampler's newest sample (in time order). */
  add(sample: MetricsSample): void {
    if (this.state === 'closed') return
    const first = this.minute[0]
    if (first && Math.floor(first.at / MINUTES.stepMs) !== Math.floor(sample.at / MINUTES.stepMs)) {
      this.push(MINUTES.stepMs, downsample(this.minute, MINUTES.stepMs))
      this.minute = []
    }
    this.minute.push(sample)
    this.push(SECONDS.stepMs, [sample])
  }

  /** Writing and pruning start (once the database is open). */
  start(): void {
    if (this.state !== 'new') return
    this.state = 'open'
    this.flushTimer = setInterval(() => void this.flush().catch(() => {}), this.options.flushMs ?? 10_000)
    this.flushTimer.unref()
    this.pruneTimer = setInterval(() => void this.prune().catch(() => {}), PRUNE_EVERY_MS)
    this.pruneTimer.unref()
    void this.prune().catch(() => {})
  }

  /** The samples of a span, oldest first, at the step it is served at; rejects when the database cannot answer. */
  async query(span: MetricSpan): Promise<MetricHistory> {
    const now = this.now()
    const range = 'range' in span ? span.range : null
    const from = range ? now - METRIC_RANGE_SPEC[range].spanMs : (span as { from: number }).from
    const to = range ? now + 1 : (span as { to: number }).to
    const stepMs = range ? METRIC_RANGE_SPEC[range].stepMs : stepFor(from, to, now)
    const tier = stepMs < MINUTES.stepMs && from >= now - SECONDS.keepMs ? SECONDS : MINUTES
    const stored = await this.store.samples(tier.stepMs, from, to)
    const recent = [...this.pending.get(tier.stepMs)!]
    if (tier === MINUTES) recent.push(...downsample(this.minute, MINUTES.stepMs))
    const byTime = new Map<number, MetricsSample>()
    for (const sample of [...stored, ...recent]) if (sample.at >= from && sample.at < to) byTime.set(sample.at, sample)
    const samples = [...byTime.values()].sort((a, b) => a.at - b.at)
    return { range, from, to, stepMs, samples: stepMs === tier.stepMs ? samples : downsample(samples, stepMs) }
  }

  /** Deletes what is past each tier's keep (a little later, so a range is never short of its start). */
  async prune(): Promise<number> {
    const now = this.now()
    let gone = 0
    for (const tier of METRIC_TIERS) gone += await this.store.pruneSamples(tier.stepMs, now - tier.keepMs - 5 * 60_000)
    return gone
  }

  /** Writes what waits, the minute under way included; nothing is taken after. */
  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer)
    if (this.pruneTimer) clearInterval(this.pruneTimer)
    this.flushTimer = this.pruneTimer = null
    if (this.state === 'open') {
      if (this.minute.length > 0) this.push(MINUTES.stepMs, downsample(this.minute, MINUTES.stepMs))
      await this.flush().catch(() => {})
    }
    this.state = 'closed'
  }

  private push(stepMs: number, samples: readonly MetricsSample[]): void {
    const list = this.pending.get(stepMs)!
    list.push(...samples)
    // Kept while the database takes none: at most what the tier keeps.
    const tier = METRIC_TIERS.find((t) => t.stepMs === stepMs)!
    const max = tier.keepMs / tier.stepMs
    if (list.length > max) list.splice(0, list.length - max)
  }

  /** Writes every tier's pending samples, after the write in flight. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => {})
    if (this.state !== 'open') return
    const batches = [...this.pending].filter(([, samples]) => samples.length > 0)
    if (batches.length === 0) return
    for (const [step] of batches) this.pending.set(step, [])
    this.writing = (async () => {
      for (const [step, samples] of batches) await this.store.appendSamples(step, samples)
    })()
    try {
      await this.writing
      if (this.failing) this.options.logger.info({}, 'metric samples are stored again')
      this.failing = false
    } catch (error) {
      // Back in front of what came meanwhile; a tier written before the failure is written again (an upsert).
      for (const [step, samples] of batches) this.pending.set(step, [...samples, ...this.pending.get(step)!])
      if (!this.failing) {
        this.options.logger.warn({ err: error }, 'metric samples cannot be stored now: kept in memory, retried')
      }
      this.failing = true
      throw error
    } finally {
      this.writing = null
    }
  }
}
