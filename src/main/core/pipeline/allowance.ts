/**
 * How often one viewer may be sent the expensive answers — a snapshot or a
 * replay of missed events: `burst` at once, then one per `everyMs`.
 */
export class Allowance {
  private tokens: number
  private updatedAt: number

  constructor(
    private readonly burst: number,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst
    this.updatedAt = now()
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + (now - this.updatedAt) / this.everyMs)
    this.updatedAt = now
  }

  /** Whether one may be spent now (without spending it). */
  get available(): boolean {
    this.refill()
    return this.tokens >= 1
  }

  /** Spends one: 0 when there was one, else the ms until there is. */
  take(): number {
    this.refill()
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.ceil((1 - this.tokens) * this.everyMs)
  }
}
