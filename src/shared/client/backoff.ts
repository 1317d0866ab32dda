/**
 * Exponential backoff with jitter: 1, 2, 4, 8, 16, 30 s (cap) by default,
 * each delay spread by ±`jitter` so that clients cut off together do not
 * come back together. With the default ±20 % every delay is longer than the
 * one before until the cap (0.8 × 2d > 1.2 × d), so "growing delays" holds
 * for every draw, not only on average; and no delay ever exceeds the cap.
 */
export interface BackoffOptions {
  /** First delay (default 1000 ms). */
  minMs?: number
  /** Cap (default 30 000 ms). */
  maxMs?: number
  /** 0–1: a delay d becomes a random value in [d·(1−jitter), d·(1+jitter)], capped at maxMs (default 0.2). */
  jitter?: number
  random?: () => number
}

export const BACKOFF_DEFAULTS = { minMs: 1000, maxMs: 30_000, jitter: 0.2 } as const

export class Backoff {
  private attempt = 0
  readonly minMs: number
  readonly maxMs: number
  readonly jitter: number
  private readonly random: () => number

  constructor(options: BackoffOptions = {}) {
    this.minMs = Math.max(1, options.minMs ?? BACKOFF_DEFAULTS.minMs)
    this.maxMs = Math.max(this.minMs, options.maxMs ?? BACKOFF_DEFAULTS.maxMs)
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? BACKOFF_DEFAULTS.jitter))
    this.random = options.random ?? Math.random
  }

  /** The delay before the next attempt, without jitter: min · 2^n, capped. */
  base(step = this.attempt): number {
    // 2^n overflows to Infinity long after the cap, so the min() keeps it finite.
    return Math.min(this.maxMs, this.minMs * 2 ** step)
  }

  /** The delay before the next attempt; each call doubles the base. */
  next(): number {
    const base = this.base()
    this.attempt++
    const spread = base * this.jitter * (2 * this.random() - 1)
    return Math.round(Math.min(this.maxMs, Math.max(0, base + spread)))
  }

  /** Delays drawn since the last reset. */
  get attempts(): number {
    return this.attempt
  }

  reset(): void {
    this.attempt = 0
  }
}
