/**
 * Exponential backoff with jitter: 1, 2, 4, 8, 16, 30 s (cap), each delay
 * spread by ±`jitter` so that agents cut off together do not return together.
 * The same curve socket.io-client's own reconnection follows with the
 * options `createAgent` gives it; this one covers the cases where the client
 * does not retry by itself (the server closed the connection).
 */
export interface BackoffOptions {
  minMs?: number
  maxMs?: number
  /** 0–1: a delay d becomes a random value in [d·(1−jitter), d·(1+jitter)], capped at maxMs. */
  jitter?: number
  random?: () => number
}

export class Backoff {
  private attempt = 0
  readonly minMs: number
  readonly maxMs: number
  readonly jitter: number
  private readonly random: () => number

  constructor(options: BackoffOptions = {}) {
    this.minMs = options.minMs ?? 1000
    this.maxMs = options.maxMs ?? 30_000
    this.jitter = options.jitter ?? 0.5
    this.random = options.random ?? Math.random
  }

  /** The delay before the next attempt; each call doubles the base. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** this.attempt)
    this.attempt++
    const spread = base * this.jitter * (2 * this.random() - 1)
    return Math.round(Math.min(this.maxMs, Math.max(0, base + spread)))
  }

  get attempts(): number {
    return this.attempt
  }

  reset(): void {
    this.attempt = 0
  }
}
