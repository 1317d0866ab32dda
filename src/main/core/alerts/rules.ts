/**
 * The built-in alert rules. Each is a pure function from one reading of the
 * swarm to the conditions that hold now, so they can be tested with made-up
 * readings and no clock. The engine (engine.ts) turns conditions into alerts:
 * raised when a condition appears, resolved when it is gone.
 */
import type { Agent, AlertSeverity, MetricsSample, OfflineCause, Task } from '../../../shared/domain'
import { isOnAgent } from '../../../shared/statuses'

export const RULES = [
  'agent-offline',
  'agent-connection-dropped',
  'agent-disconnected',
  'error-rate',
  'backlog-growing',
  'task-stuck',
  'history-unavailable',
] as const
export type RuleName = (typeof RULES)[number]

export interface AlertSettings {
  /** Error rate: failed / finished over this window... */
  errorRateWindowMs: number
  /** ...raises a warning at this share, */
  errorRateWarning: number
  /** a critical alert at this one, */
  errorRateCritical: number
  /** counting only windows where at least this many tasks finished. */
  errorRateMinFinished: number
  /** Backlog: queue depth over this many consecutive samples (1 s apart)... */
  backlogSamples: number
  /** ...grew by at least this much, without falling back in more than one step in five. */
  backlogMinGrowth: number
  /** A task running longer than its timeout plus this is stuck (the coordinator should have stopped it). */
  stuckGraceMs: number
  /** Tasks without a timeout are stuck after running this long. */
  stuckAfterMs: number
  /** An active condition clears only below threshold × this (hysteresis: no flapping on the line). */
  clearRatio: number
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  errorRateWindowMs: 60_000,
  errorRateWarning: 0.25,
  errorRateCritical: 0.5,
  errorRateMinFinished: 20,
  backlogSamples: 30,
  backlogMinGrowth: 10,
  stuckGraceMs: 5_000,
  stuckAfterMs: 10 * 60_000,
  clearRatio: 0.8,
}

/** What the rules look at, read once per evaluation. */
export interface SwarmReading {
  now: number
  agents: readonly Agent[]
  /** Tasks assigned or running. */
  activeTasks: readonly Task[]
  /** Recent metrics samples, oldest first. */
  samples: readonly MetricsSample[]
  /** Keys of the conditions active before this reading (for hysteresis). */
  active: ReadonlySet<string>
  /** Why the history database takes no writes, while it does not; absent or null: it does. */
  historyOutage?: { since: number; error: string; database: string } | null
}

export interface Condition {
  /** Identifies the condition across readings: the rule and what it is about. */
  key: string
  rule: RuleName
  severity: AlertSeverity
  message: string
  agentId: string | null
  taskId: string | null
}

export type Rule = (reading: SwarmReading, settings: AlertSettings) => Condition[]

/**
 * An offline agent, said as it happened: one that fell silent (heartbeat or
 * ping timeout) is critical, nobody knows what it is doing; one whose
 * connection ended without a goodbye (its process died, the network failed) a
 * warning; one that closed its connection itself (a stop, Ctrl-C) only info.
 */
const OFFLINE_RULE: Record<OfflineCause, { rule: RuleName; severity: AlertSeverity }> = {
  silent: { rule: 'agent-offline', severity: 'critical' },
  dropped: { rule: 'agent-connection-dropped', severity: 'warning' },
  disconnected: { rule: 'agent-disconnected', severity: 'info' },
}

export const agentOffline: Rule = ({ agents, now }) =>
  agents
    .filter((agent) => agent.status === 'offline')
    .map((agent) => {
      const cause = agent.offline?.cause ?? 'silent'
      // Said once, when raised (the alert's time says when): no "N s ago" that would go stale.
      const message =
        cause === 'disconnected'
          ? `Agent ${agent.name} disconnected: it closed its connection itself (a clean stop); whatever it ran went back to the queue`
          : cause === 'dropped'
            ? `Agent ${agent.name}'s connection dropped without a goodbye (${agent.offline?.detail ?? 'no reason given'}): its process may have died or the network failed; whatever it ran went back to the queue`
            : `Agent ${agent.name} lost its heartbeat: offline, last heard ${seconds(now - agent.lastHeartbeat)} ago`
      return {
        // One key whatever the cause: an agent is offline once at a time.
        key: `agent-offline:${agent.id}`,
        ...OFFLINE_RULE[cause],
        message,
        agentId: agent.id,
        taskId: null,
      }
    })

/** Failed (and timed-out) tasks as a share of those that finished over the window. */
export const errorRate: Rule = ({ samples, active }, settings) => {
  const latest = samples.at(-1)
  if (!latest) return []
  const from = latest.at - settings.errorRateWindowMs
  // The newest sample at or before the window's start. None: the server started
  // within the window (the counters count from its start), so count from zero.
  let base: Pick<MetricsSample, 'at' | 'failed' | 'succeeded'> | null = null
  for (const sample of samples) {
    if (sample.at > from) break
    base = sample
  }
  const sinceStart = base === null
  base ??= { at: samples[0]!.at, failed: 0, succeeded: 0 }
  const failed = latest.failed - base.failed
  const finished = failed + latest.succeeded - base.succeeded
  if (finished < settings.errorRateMinFinished || finished <= 0) return []
  const rate = failed / finished
  const key = 'error-rate'
  const threshold = active.has(key) ? settings.errorRateWarning * settings.clearRatio : settings.errorRateWarning
  if (rate < threshold) return []
  const when = sinceStart
    ? 'since the server started'
    : `in the last ${Math.max(1, Math.round((latest.at - base.at) / 1000))} s`
  return [
    {
      key,
      rule: 'error-rate',
      severity: rate >= settings.errorRateCritical ? 'critical' : 'warning',
      message: `${Math.round(rate * 100)} % of the tasks that finished ${when} failed (${failed} of ${finished})`,
      agentId: null,
      taskId: null,
    },
  ]
}

/** The queue keeps growing: more work arrives than the agents take. */
export const backlogGrowing: Rule = ({ samples, active }, settings) => {
  const n = settings.backlogSamples
  if (samples.length < n) return []
  const window = samples.slice(-n)
  const first = window[0]!.queued
  const last = window.at(-1)!.queued
  const key = 'backlog-growing'
  if (active.has(key)) {
    // Holds while the queue is still above where the window started.
    if (last <= first) return []
  } else {
    let falls = 0
    for (let i = 1; i < window.length; i++) if (window[i]!.queued < window[i - 1]!.queued) falls++
    if (last - first < settings.backlogMinGrowth || falls * 5 > window.length - 1) return []
  }
  const spanS = Math.round((window.at(-1)!.at - window[0]!.at) / 1000)
  return [
    {
      key,
      rule: 'backlog-growing',
      severity: 'warning',
      message: `Queue depth grew from ${first} to ${last} over the last ${spanS} s`,
      agentId: null,
      taskId: null,
    },
  ]
}

/** A task running (or assigned and never started) longer than its timeout allows. */
export const taskStuck: Rule = ({ activeTasks, now }, settings) => {
  const stuck: Condition[] = []
  for (const task of activeTasks) {
    if (!isOnAgent(task.status)) continue
    const since = task.status === 'running' ? (task.startedAt ?? task.updatedAt) : task.updatedAt
    const limit = task.timeoutMs !== null ? task.timeoutMs + settings.stuckGraceMs : settings.stuckAfterMs
    const elapsed = now - since
    if (elapsed <= limit) continue
    const past = task.timeoutMs !== null ? `past its ${seconds(task.timeoutMs)} timeout` : 'and has no timeout'
    stuck.push({
      key: `task-stuck:${task.id}`,
      rule: 'task-stuck',
      severity: 'warning',
      message: `Task ${task.name} has been ${task.status} for ${seconds(elapsed)}, ${past}`,
      agentId: task.agentId,
      taskId: task.id,
    })
  }
  return stuck
}

/** The history database takes no writes: new tasks are refused until it is back (storage/buffered-history.ts). */
export const historyUnavailable: Rule = ({ historyOutage, now }) =>
  historyOutage
    ? [
        {
          key: 'history-unavailable',
          rule: 'history-unavailable',
          severity: 'critical',
          message: `The history database ${historyOutage.database} has been unavailable for ${seconds(now - historyOutage.since)}: new tasks are refused (503) until it is back, reconnecting (${historyOutage.error})`,
          agentId: null,
          taskId: null,
        },
      ]
    : []

export const BUILT_IN_RULES: readonly Rule[] = [agentOffline, errorRate, backlogGrowing, taskStuck, historyUnavailable]

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s} s`
  const m = Math.round(s / 60)
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`
}
