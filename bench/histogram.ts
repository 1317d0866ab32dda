/**
 * A fixed-bin latency histogram (0.1 ms bins up to 10 s): O(1) per sample,
 * so a client process can record every event of a thousand connections.
 * Percentiles are exact to the bin; the maximum and the mean are exact.
 */
import type { Distribution } from './api'

const BIN_MS = 0.1
const BINS = 100_000

export class Histogram {
  private readonly bins = new Uint32Array(BINS + 1)
  private count = 0
  private sum = 0
  private max = 0

  record(ms: number): void {
    const value = ms < 0 ? 0 : ms
    this.bins[Math.min(BINS, Math.floor(value / BIN_MS))]!++
    this.count++
    this.sum += value
    if (value > this.max) this.max = value
  }

  merge(other: Histogram): void {
    for (let i = 0; i <= BINS; i++) this.bins[i]! += other.bins[i]!
    this.count += other.count
    this.sum += other.sum
    this.max = Math.max(this.max, other.max)
  }

  /** The non-empty bins, to merge histograms of several processes (`addSparse`). */
  toSparse(): [number, number][] {
    const bins: [number, number][] = []
    for (let i = 0; i <= BINS; i++) if (this.bins[i]! > 0) bins.push([i, this.bins[i]!])
    return bins
  }

  /** Adds another process's bins (their mean and maximum are taken as the bins' upper edges). */
  addSparse(bins: readonly [number, number][]): void {
    for (const [bin, count] of bins) {
      this.bins[bin]! += count
      this.count += count
      const value = Math.min(bin + 1, BINS) * BIN_MS
      this.sum += value * count
      if (value > this.max) this.max = value
    }
  }

  reset(): void {
    this.bins.fill(0)
    this.count = 0
    this.sum = 0
    this.max = 0
  }

  /** The value below which a share `q` (0–1) of the samples lie: the upper edge of its bin. */
  quantile(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i <= BINS; i++) {
      seen += this.bins[i]!
      if (seen >= rank) return i === BINS ? this.max : Math.min(this.max, (i + 1) * BIN_MS)
    }
    return this.max
  }

  /** How many samples were at most `ms` (to the bin). */
  countUpTo(ms: number): number {
    let seen = 0
    const last = Math.min(BINS, Math.floor(ms / BIN_MS))
    for (let i = 0; i <= last; i++) seen += this.bins[i]!
    return seen
  }

  summary(): Distribution {
    return {
      count: this.count,
      mean: round(this.count ? this.sum / this.count : 0),
      p50: round(this.quantile(0.5)),
      p95: round(this.quantile(0.95)),
      p99: round(this.quantile(0.99)),
      max: round(this.max),
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
