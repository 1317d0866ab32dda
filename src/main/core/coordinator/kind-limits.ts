/**
 * Per-kind limits (`shared/kinds.ts`) as the dispatch pass asks them: whether a
 * kind may send one more task now, and if not, what holds it. The rate is a
 * sliding window: a kind may be dispatched `maxPerMinute` times in any 60 s,
 * the log holding the times of its last `maxPerMinute` dispatches, kept only
 * while a rate is set (dispatches before it was set do not count). When a
 * rate holds a kind, one timer asks for a pass at the moment the oldest
 * dispatch leaves the window, so the queue moves on without another event.
 */
import {
  isDefaultLimits,
  KIND_LIMITS,
  NO_KIND_LIMITS,
  type KindHold,
  type KindLimits,
  type KindState,
} from '../../../shared/kinds'

export interface KindLimiterOptions {
  now(): number
  /** Tasks of each kind on agents (assigned or running) now. */
  running(): Map<string, number>
  /** Asks for a dispatch pass (the rate window allows again). */
  schedule(): void
  /** A kind's state changed as viewers hold it: its limits were set, or a dispatch filled its rate window. */
  changed?(state: KindState): void
}

export class KindLimiter {
  private readonly limits = new Map<string, KindLimits>()
  /** For each kind with a rate: the times of its last dispatches, oldest first. */
  private readonly dispatches = new Map<string, number[]>()
  /** Running counts during a pass, kept up to date as it dispatches; null between passes. */
  private passRunning: Map<string, number> | null = null
  private wake: { at: number; timer: NodeJS.Timeout } | null = null

  constructor(private readonly options: KindLimiterOptions) {}

  get(kind: string): KindLimits {
    return { ...(this.limits.get(kind) ?? NO_KIND_LIMITS) }
  }

  /** Replaces a kind's limits; back at the defaults, the kind is forgotten. */
  set(kind: string, limits: KindLimits): void {
    if (isDefaultLimits(limits)) this.limits.delete(kind)
    else this.limits.set(kind, { ...limits })
    if (limits.maxPerMinute === null) this.dispatches.delete(kind)
    else this.trim(kind, limits.maxPerMinute)
    this.options.changed?.(this.state(kind))
  }

  /**
   * A kind as viewers hold it. The rate's hold is told with the dispatch that fills the window, with the time it
   * ends; a viewer needs no word when it does (the time passes), and the next dispatch that fills it tells again.
   */
  state(kind: string): KindState {
    const limits = this.get(kind)
    const log = limits.maxPerMinute !== null ? this.trim(kind, limits.maxPerMinute) : []
    const full = limits.maxPerMinute !== null && log.length >= limits.maxPerMinute
    return { kind, ...limits, rateHeldUntil: full ? log[0]! + KIND_LIMITS.windowMs : null }
  }

  /** Every kind with limits set, with them. */
  configured(): Map<string, KindLimits> {
    return new Map([...this.limits].map(([kind, limits]) => [kind, { ...limits }]))
  }

  /** Dispatches of a kind in the last 60 s (counted only while it has a rate). */
  recent(kind: string): number {
    const limits = this.limits.get(kind)
    return limits?.maxPerMinute != null ? this.trim(kind, limits.maxPerMinute).length : 0
  }

  /** What holds a kind now; null: it may send a task. */
  hold(kind: string): KindHold | null {
    const limits = this.limits.get(kind)
    if (!limits) return null
    if (limits.paused) return { limit: 'paused' }
    if (limits.maxRunning !== null && this.runningOf(kind) >= limits.maxRunning) {
      return { limit: 'maxRunning', maxRunning: limits.maxRunning }
    }
    if (limits.maxPerMinute !== null) {
      const log = this.trim(kind, limits.maxPerMinute)
      if (log.length >= limits.maxPerMinute) {
        return { limit: 'maxPerMinute', maxPerMinute: limits.maxPerMinute, untilMs: log[0]! + KIND_LIMITS.windowMs }
      }
    }
    return null
  }

  /** How many tasks of a kind may be sent now (Infinity: no limit). */
  room(kind: string): number {
    const limits = this.limits.get(kind)
    if (!limits) return Infinity
    if (limits.paused) return 0
    let room = Infinity
    if (limits.maxRunning !== null) room = Math.max(0, limits.maxRunning - this.runningOf(kind))
    if (limits.maxPerMinute !== null) {
      room = Math.min(room, Math.max(0, limits.maxPerMinute - this.trim(kind, limits.maxPerMinute).length))
    }
    return room
  }

  /** A pass starts: the running counts are taken once and kept up to date by `dispatched`. */
  beginPass(): void {
    this.passRunning = this.limits.size > 0 ? this.options.running() : new Map()
  }

  endPass(): void {
    this.passRunning = null
  }

  /** A task of the kind went to an agent. */
  dispatched(kind: string): void {
    if (this.passRunning) this.passRunning.set(kind, (this.passRunning.get(kind) ?? 0) + 1)
    const limits = this.limits.get(kind)
    if (limits?.maxPerMinute == null) return
    let log = this.dispatches.get(kind)
    if (!log) this.dispatches.set(kind, (log = []))
    log.push(this.options.now())
    if (this.trim(kind, limits.maxPerMinute).length >= limits.maxPerMinute) this.options.changed?.(this.state(kind))
  }

  /** Asks for a pass at `at` (a rate's window allows again); the earliest asked for wins. */
  wakeAt(at: number): void {
    if (this.wake && this.wake.at <= at) return
    if (this.wake) clearTimeout(this.wake.timer)
    const timer = setTimeout(
      () => {
        this.wake = null
        this.options.schedule()
      },
      Math.max(0, at - this.options.now()),
    )
    this.wake = { at, timer }
  }

  stop(): void {
    if (this.wake) clearTimeout(this.wake.timer)
    this.wake = null
  }

  private runningOf(kind: string): number {
    return (this.passRunning ?? this.options.running()).get(kind) ?? 0
  }

  /** Drops dispatches older than the window, and beyond the last `max` (the only ones that can count). */
  private trim(kind: string, max: number): number[] {
    const log = this.dispatches.get(kind) ?? []
    const cutoff = this.options.now() - KIND_LIMITS.windowMs
    let drop = Math.max(0, log.length - max)
    while (drop < log.length && log[drop]! <= cutoff) drop++
    if (drop > 0) log.splice(0, drop)
    return log
  }
}
