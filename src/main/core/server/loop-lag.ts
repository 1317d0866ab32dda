/**
 * How late this process's event loop runs, for the rate limiter. The token
 * bucket judges a message when the server gets to it, not when it was sent:
 * while the loop is busy (a long block, or a saturated server), a client's
 * messages wait in the socket and are then handled all at once, and a
 * client that kept to the limit would look like one in a burst. The bucket
 * widens its burst by what the loop owes (guard.ts), so nobody is refused for
 * the server's own backlog.
 *
 * Measured by a drift timer: a tick meant every `intervalMs` notes how late it
 * came. How long a message may have waited unread is up to two late turns of
 * the loop (read early in one, late in the next), so `recentMs()` is the
 * largest sum of two consecutive latenesses in the last `windowMs`, counting
 * the tick that is overdue right now — after a long block the socket's data
 * may be handled before the timer gets to run, and must already see the block.
 * (`perf_hooks.monitorEventLoopDelay` records a block only when its own timer
 * runs, which may be after those messages.)
 */

export interface LoopLagOptions {
  /** How often the drift timer ticks (default 50 ms). */
  intervalMs?: number
  /** How long a lateness counts after it was seen (default 10 s). */
  windowMs?: number
  /** The most lag ever credited (default 60 s): a longer block is not a reason to accept more. */
  maxMs?: number
  now?: () => number
}

export class LoopLag {
  private readonly intervalMs: number
  private readonly windowMs: number
  private readonly maxMs: number
  private readonly now: () => number
  private timer: NodeJS.Timeout | null = null
  private active = false
  private lastTick = 0
  /** The lateness of the last tick, added to the next one's. */
  private lastLagMs = 0
  /** Sliding-window maximum: lags that could still be the largest, decreasing front to back. */
  private peaks: { at: number; lagMs: number }[] = []

  constructor(options: LoopLagOptions = {}) {
    this.intervalMs = options.intervalMs ?? 50
    this.windowMs = options.windowMs ?? 10_000
    this.maxMs = options.maxMs ?? 60_000
    this.now = options.now ?? (() => performance.now())
  }

  /** Starts measuring; `timer: false` leaves the ticking to the caller (tests with their own clock). */
  start({ timer = true }: { timer?: boolean } = {}): void {
    if (this.active) return
    this.active = true
    this.lastTick = this.now()
    if (!timer) return
    this.timer = setInterval(() => this.tick(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.active = false
    this.lastLagMs = 0
    this.peaks = []
  }

  /** One tick of the drift timer. */
  tick(): void {
    if (!this.active) return
    const now = this.now()
    const late = Math.max(0, now - this.lastTick - this.intervalMs)
    const lagMs = late + this.lastLagMs
    this.lastTick = now
    this.lastLagMs = late
    while (this.peaks.length > 0 && this.peaks[this.peaks.length - 1]!.lagMs <= lagMs) this.peaks.pop()
    this.peaks.push({ at: now, lagMs })
  }

  /**
   * The longest a message may have waited for the loop in the last `windowMs`
   * (two consecutive latenesses, the overdue tick included); 0 when not started.
   */
  recentMs(): number {
    if (!this.active) return 0
    const now = this.now()
    while (this.peaks.length > 0 && this.peaks[0]!.at < now - this.windowMs) this.peaks.shift()
    const overdue = Math.max(0, now - this.lastTick - this.intervalMs) + this.lastLagMs
    return Math.min(this.maxMs, Math.max(overdue, this.peaks[0]?.lagMs ?? 0))
  }
}
