/**
 * The application heartbeat: a ping with an acknowledgement every interval,
 * measuring the round trip. Socket.IO's own ping runs server → client, is not
 * exposed, and by default takes 45 s to notice a dead link; this one is the
 * client's own, so a half-open connection (TCP still "up", nothing getting
 * through) is noticed within `detectionBoundMs` and the link is closed.
 *
 * One ping at a time, sent on the interval's ticks: each must be answered
 * within `timeoutMs`, an answer that comes later is ignored, and a tick that
 * finds a ping still waiting sends nothing. `maxMissed` unanswered pings in a
 * row declare the link dead.
 */
export type LinkQuality = 'good' | 'degraded' | 'poor' | 'unknown'

export interface HeartbeatOptions {
  /** Time between pings (default 5000 ms). */
  intervalMs?: number
  /** How long a ping may wait for its answer (default 4000 ms). */
  timeoutMs?: number
  /** Unanswered pings in a row that mean the link is dead (default 2). */
  maxMissed?: number
  /** Samples in the moving average (default 5). */
  window?: number
}

export type HeartbeatSettings = Required<HeartbeatOptions>

export const HEARTBEAT_DEFAULTS: HeartbeatSettings = { intervalMs: 5000, timeoutMs: 4000, maxMissed: 2, window: 5 }

/**
 * Link quality from the moving average of the round trip: good below 150 ms,
 * degraded below 600 ms, poor from 600 ms, and poor whenever the last ping
 * went unanswered.
 */
export const QUALITY_THRESHOLDS = { degradedFromMs: 150, poorFromMs: 600 } as const

export function heartbeatSettings(options: HeartbeatOptions = {}): HeartbeatSettings {
  const intervalMs = Math.max(10, options.intervalMs ?? HEARTBEAT_DEFAULTS.intervalMs)
  return {
    intervalMs,
    timeoutMs: Math.max(1, options.timeoutMs ?? HEARTBEAT_DEFAULTS.timeoutMs),
    maxMissed: Math.max(1, Math.floor(options.maxMissed ?? HEARTBEAT_DEFAULTS.maxMissed)),
    window: Math.max(1, Math.floor(options.window ?? HEARTBEAT_DEFAULTS.window)),
  }
}

/**
 * The longest a dead link goes unnoticed. It can die just after an answer;
 * the next ping goes out one interval later, and each ping after a miss on
 * the first tick after the miss's deadline; the last one's deadline ends it:
 * interval + (maxMissed − 1) · ⌈timeout / interval⌉ · interval + timeout.
 * With timeout ≤ interval that is maxMissed · interval + timeout; the
 * defaults give 2 × 5 s + 4 s = 14 s.
 */
export function detectionBoundMs(options: HeartbeatOptions = {}): number {
  const s = heartbeatSettings(options)
  return s.intervalMs + (s.maxMissed - 1) * Math.ceil(s.timeoutMs / s.intervalMs) * s.intervalMs + s.timeoutMs
}

export function classifyQuality(averageRttMs: number | null, missed: number): LinkQuality {
  if (missed > 0) return 'poor'
  if (averageRttMs === null) return 'unknown'
  if (averageRttMs < QUALITY_THRESHOLDS.degradedFromMs) return 'good'
  if (averageRttMs < QUALITY_THRESHOLDS.poorFromMs) return 'degraded'
  return 'poor'
}

export interface HeartbeatSample {
  rttMs: number
  averageRttMs: number
  /** Server clock minus ours, estimated from the answer's server time; null if it carried none. */
  clockOffsetMs: number | null
}

export interface HeartbeatHandlers {
  /** Sends one ping; resolves with the server's clock (epoch ms) or null, rejects or never settles when unanswered. */
  ping(timeoutMs: number): Promise<number | null>
  onSample(sample: HeartbeatSample): void
  onMiss(consecutive: number): void
  onDead(missed: number): void
  /** Each ping sent (the SDK sends its resource figures alongside). */
  onBeat?(): void
}

export class Heartbeat {
  private readonly settings: HeartbeatSettings
  private readonly samples: number[] = []
  /** The ping waiting for its answer: its serial and deadline; 0 when none. */
  private pending = 0
  private pendingDeadline = 0
  private serial = 0
  private missed = 0
  private stopped = false
  private readonly ticker: ReturnType<typeof setInterval>
  private deadline: ReturnType<typeof setTimeout> | undefined

  constructor(
    options: HeartbeatOptions,
    private readonly handlers: HeartbeatHandlers,
    private readonly now: () => number = Date.now,
  ) {
    this.settings = heartbeatSettings(options)
    this.ticker = setInterval(() => this.tick(), this.settings.intervalMs)
    this.tick()
  }

  stop(): void {
    this.stopped = true
    this.pending = 0
    clearInterval(this.ticker)
    clearTimeout(this.deadline)
  }

  private tick(): void {
    if (this.stopped) return
    // A deadline due at this very moment counts before the tick, whichever timer ran first.
    if (this.pending !== 0 && this.now() >= this.pendingDeadline) this.expire(this.pending)
    if (this.stopped || this.pending !== 0) return
    const id = ++this.serial
    const sentAt = this.now()
    this.pending = id
    this.pendingDeadline = sentAt + this.settings.timeoutMs
    clearTimeout(this.deadline)
    this.deadline = setTimeout(() => this.expire(id), this.settings.timeoutMs)
    this.handlers.onBeat?.()
    let answer: Promise<number | null>
    try {
      answer = this.handlers.ping(this.settings.timeoutMs)
    } catch {
      return // counted as missed at the deadline
    }
    answer.then(
      (serverTime) => this.answered(id, sentAt, serverTime),
      () => {},
    )
  }

  private answered(id: number, sentAt: number, serverTime: number | null): void {
    if (this.stopped || id !== this.pending) return
    this.pending = 0
    clearTimeout(this.deadline)
    const receivedAt = this.now()
    const rttMs = Math.max(0, receivedAt - sentAt)
    this.missed = 0
    this.samples.push(rttMs)
    if (this.samples.length > this.settings.window) this.samples.shift()
    const averageRttMs = this.samples.reduce((sum, value) => sum + value, 0) / this.samples.length
    const clockOffsetMs = typeof serverTime === 'number' ? serverTime + rttMs / 2 - receivedAt : null
    this.handlers.onSample({ rttMs, averageRttMs, clockOffsetMs })
  }

  private expire(id: number): void {
    if (this.stopped || id !== this.pending) return
    this.pending = 0
    clearTimeout(this.deadline)
    this.missed++
    if (this.missed >= this.settings.maxMissed) {
      this.stop()
      this.handlers.onDead(this.missed)
      return
    }
    this.handlers.onMiss(this.missed)
  }
}
