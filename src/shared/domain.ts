/**
 * The swarm's domain model: agents, tasks, metrics and alerts.
 *
 * Schemas come first and the types are derived from them, so that what the
 * server validates and what both sides compile against can never drift apart.
 */
import { z } from 'zod'
import { AGENT_STATUSES, TASK_STATUSES, type AgentStatus, type LogLevel, type TaskStatus } from './statuses'
import { CAPABILITY_PATTERN, TASK_LIMITS } from './task-limits'

export { AGENT_STATUSES, TASK_STATUSES, TERMINAL_TASK_STATUSES, isTerminal } from './statuses'
export type { AgentStatus, TaskStatus } from './statuses'

export const AgentStatusSchema = z.enum(AGENT_STATUSES)

export const AGENT_KINDS = ['local', 'remote', 'demo'] as const
export const AgentKindSchema = z.enum(AGENT_KINDS)
export type AgentKind = z.infer<typeof AgentKindSchema>

export const TaskStatusSchema = z.enum(TASK_STATUSES)

/** A capability tag: short, printable, no spaces. */
export const CapabilitySchema = z
  .string()
  .min(1)
  .max(TASK_LIMITS.capabilityLength)
  .regex(CAPABILITY_PATTERN, 'capabilities are tags of letters, digits and _ . : / -')

export interface AgentResources {
  cpu?: number
  memoryMb?: number
}

/**
 * How an agent went offline: `disconnected`, it closed its connection itself
 * (a clean stop, Ctrl-C); `dropped`, the connection ended without a goodbye
 * (its process died, the network failed); `silent`, it stopped answering
 * (heartbeat or ping timeout) while its connection may still look open.
 */
export const OFFLINE_CAUSES = ['disconnected', 'dropped', 'silent'] as const
export type OfflineCause = (typeof OFFLINE_CAUSES)[number]

export interface AgentOffline {
  /** Epoch ms when the server took it for offline. */
  at: number
  cause: OfflineCause
  /** What the server saw, in a few words (the transport's reason, how long it was silent). */
  detail: string
}

export interface Agent {
  id: string
  name: string
  kind: AgentKind
  capabilities: string[]
  /** The task kinds it runs; null: any kind its capabilities allow. */
  kinds: string[] | null
  status: AgentStatus
  /** How many tasks the agent runs at once. */
  concurrency: number
  /** Tasks the agent holds now (assigned or running). */
  currentTaskIds: string[]
  /** Epoch ms of the last sign of life. */
  lastHeartbeat: number
  joinedAt: number
  counters: { done: number; failed: number }
  resources: AgentResources | null
  /** Why and since when it is offline; null while it is not. */
  offline: AgentOffline | null
}

export interface Task {
  id: string
  name: string
  kind: string
  payload: unknown
  /** Higher runs first. */
  priority: number
  capabilities: string[]
  status: TaskStatus
  agentId: string | null
  /** Runs started on agents, every one (an agent sees its run's number here). */
  attempts: number
  /**
   * Runs cut short by a requeue: the agent left or went offline, or the server
   * restarted. Not the task's failure, so they do not count against
   * `maxRetries` (`src/shared/attempts.ts`).
   */
  requeues: number
  maxRetries: number
  timeoutMs: number | null
  /** 0 to 1. */
  progress: number
  createdAt: number
  updatedAt: number
  startedAt: number | null
  finishedAt: number | null
  result: unknown
  error: string | null
  /**
   * Tasks that must succeed before this one is dispatched (ids, fixed at submit); absent: none. While one has not,
   * the task waits (`queued`, out of the dispatch line); when one ends for good without succeeding, this task is
   * cancelled, naming it (`src/main/core/coordinator/dependencies.ts`).
   */
  dependsOn?: string[]
  /** The workflow this task was submitted in (`POST /api/workflows`), and its key there; absent: none. */
  workflow?: TaskWorkflow
  /**
   * The dependency whose end cancelled this task: retrying that dependency queues this task again. Detail only
   * (viewers do not hold it); absent otherwise.
   */
  cancelledByDependency?: string
}

export interface TaskWorkflow {
  id: string
  name: string
  /** The task's key in its workflow's submission. */
  key: string
}

/**
 * What a viewer holds of a task (snapshots, events): everything but its payload
 * and result, which can be large and which only the task's detail shows
 * (`GET /api/tasks/:id`). So a viewer's bytes grow with the number of tasks,
 * never with what they carry.
 */
export type TaskSummary = Omit<Task, 'payload' | 'result' | 'cancelledByDependency'>

/** One step in a task's life, as stored: `GET /api/tasks/:id` lists them oldest first. */
export interface TaskTransition {
  at: number
  status: TaskStatus
  agentId: string | null
  attempt: number
  error: string | null
}

export interface TaskLogLine {
  at: number
  level: LogLevel
  message: string
}

/** A task with its history: what `GET /api/tasks/:id` answers. */
export interface TaskDetail extends Task {
  transitions: TaskTransition[]
  logs: TaskLogLine[]
  /** Log lines beyond the per-task bound: counted, not kept. */
  logsDropped: number
  /**
   * The dependencies it still waits for (not succeeded yet), while it waits; absent from servers older than
   * dependencies and for a task that waits for nothing.
   */
  waitingFor?: TaskRefSummary[]
  /**
   * What limit of its kind holds it in the queue, as a sentence ("kind build is paused"); absent when none does
   * (and from servers older than per-kind limits).
   */
  heldBy?: string
}

/** Another task named by a task's detail: a dependency it waits for. */
export interface TaskRefSummary {
  id: string
  name: string
  status: TaskStatus
}

/** One sample of swarm-wide figures, taken once a second. */
export interface MetricsSample {
  at: number
  agents: Record<AgentStatus, number>
  queued: number
  running: number
  /** Cumulative since the server started. */
  succeeded: number
  failed: number
  /** Tasks that reached a terminal state during the last sample interval, per second. */
  throughput: number
  /**
   * Run time (startedAt to finishedAt) of the tasks that finished in the last
   * minute, median and 95th percentile in ms; null when none did. Absent from
   * servers older than these fields.
   */
  durationP50Ms?: number | null
  durationP95Ms?: number | null
}

export interface MetricsState {
  current: MetricsSample
  /** Recent samples, oldest first, bounded. */
  history: MetricsSample[]
}

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number]

export interface Alert {
  id: string
  rule: string
  severity: AlertSeverity
  message: string
  at: number
  agentId: string | null
  acknowledged: boolean
  /** The task the alert is about (a stuck task), if any. */
  taskId?: string | null
  /** Epoch ms when the condition cleared; null (or absent) while it still holds. */
  resolvedAt?: number | null
}

export const ROLES = ['operator', 'viewer', 'agent'] as const
export type Role = (typeof ROLES)[number]
