/**
 * The alerts engine: evaluates the built-in rules once a second and keeps
 * one alert per active condition. A condition that appears raises an
 * `alert` event; one that changes severity re-emits it; one that clears
 * emits it once more with `resolvedAt` set. Operators acknowledge alerts;
 * acknowledging changes nothing but the flag (the alert resolves only when
 * its condition does). Critical alerts leave the pipeline at once (batcher).
 */
import type { Agent, Alert, AlertSeverity, MetricsSample, Task } from '../../../shared/domain'
import type { SwarmChange } from '../../../shared/events'
import { BUILT_IN_RULES, DEFAULT_ALERT_SETTINGS, type AlertSettings, type Condition, type Rule } from './rules'

/** Where the engine reads the swarm from. */
export interface AlertSources {
  agents(): readonly Agent[]
  /** Tasks assigned or running. */
  activeTasks(): readonly Task[]
  /** Recent metrics samples, oldest first (a couple of minutes is plenty). */
  samples(): readonly MetricsSample[]
  /** Why the history database takes no writes, while it does not (absent: nothing to watch). */
  historyOutage?(): { since: number; error: string; database: string } | null
}

/** What the snapshot and the operator commands need from the engine. */
export interface AlertBook {
  /** Active alerts and the most recently resolved ones, oldest first. */
  list(): Alert[]
  /** Marks an alert acknowledged; null when there is no such alert. */
  acknowledge(alertId: string): Alert | null
}

export interface AlertEngineOptions {
  emit(event: SwarmChange): void
  now?: () => number
  /** Evaluation period; default 1,000 ms. */
  intervalMs?: number
  settings?: Partial<AlertSettings>
  rules?: readonly Rule[]
  /** Resolved alerts kept for the snapshot; default 100. */
  keepResolved?: number
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 }

export class AlertEngine implements AlertBook {
  /** Active alerts by condition key. */
  private readonly active = new Map<string, Alert>()
  /** Resolved alerts, oldest first, bounded. */
  private readonly resolved: Alert[] = []
  private readonly settings: AlertSettings
  private readonly now: () => number
  private timer: NodeJS.Timeout | null = null
  private counter = 0
  /** Distinguishes this process's alert ids from an earlier run's. */
  private readonly idPrefix: string

  constructor(
    private readonly sources: AlertSources,
    private readonly options: AlertEngineOptions,
  ) {
    this.settings = { ...DEFAULT_ALERT_SETTINGS, ...options.settings }
    this.now = options.now ?? Date.now
    this.idPrefix = this.now().toString(36)
  }

  start(): void {
    this.stop()
    this.timer = setInterval(() => this.evaluate(), this.options.intervalMs ?? 1000)
    this.timer.unref?.()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** One pass over every rule: raises, updates and resolves alerts. */
  evaluate(): void {
    const now = this.now()
    const reading = {
      now,
      agents: this.sources.agents(),
      activeTasks: this.sources.activeTasks(),
      samples: this.sources.samples(),
      active: new Set(this.active.keys()),
      historyOutage: this.sources.historyOutage?.() ?? null,
    }
    const seen = new Set<string>()
    for (const rule of this.options.rules ?? BUILT_IN_RULES) {
      for (const condition of rule(reading, this.settings)) {
        if (seen.has(condition.key)) continue
        seen.add(condition.key)
        this.hold(condition, now)
      }
    }
    for (const [key, alert] of this.active) {
      if (seen.has(key)) continue
      this.active.delete(key)
      const done: Alert = { ...alert, resolvedAt: now }
      this.resolved.push(done)
      const keep = this.options.keepResolved ?? 100
      if (this.resolved.length > keep) this.resolved.splice(0, this.resolved.length - keep)
      this.publish(done, now)
    }
  }

  list(): Alert[] {
    return [...this.resolved, ...this.active.values()].sort((a, b) => a.at - b.at).map((alert) => ({ ...alert }))
  }

  acknowledge(alertId: string): Alert | null {
    for (const [key, alert] of this.active) {
      if (alert.id !== alertId) continue
      if (alert.acknowledged) return { ...alert }
      const acked = { ...alert, acknowledged: true }
      this.active.set(key, acked)
      this.publish(acked, this.now())
      return { ...acked }
    }
    const index = this.resolved.findIndex((alert) => alert.id === alertId)
    if (index < 0) return null
    const alert = this.resolved[index]!
    if (alert.acknowledged) return { ...alert }
    const acked = { ...alert, acknowledged: true }
    this.resolved[index] = acked
    this.publish(acked, this.now())
    return { ...acked }
  }

  private hold(condition: Condition, now: number): void {
    const current = this.active.get(condition.key)
    if (!current) {
      const alert: Alert = {
        id: `${condition.rule}-${this.idPrefix}-${++this.counter}`,
        rule: condition.rule,
        severity: condition.severity,
        message: condition.message,
        at: now,
        agentId: condition.agentId,
        taskId: condition.taskId,
        acknowledged: false,
        resolvedAt: null,
      }
      this.active.set(condition.key, alert)
      this.publish(alert, now)
      return
    }
    if (current.severity === condition.severity) return
    // Worse than what the operator acknowledged: it needs their eyes again.
    const escalated = SEVERITY_RANK[condition.severity] > SEVERITY_RANK[current.severity]
    const updated: Alert = {
      ...current,
      severity: condition.severity,
      message: condition.message,
      acknowledged: escalated ? false : current.acknowledged,
    }
    this.active.set(condition.key, updated)
    this.publish(updated, now)
  }

  private publish(alert: Alert, at: number): void {
    this.options.emit({ type: 'alert', at, alert: { ...alert } })
  }
}
