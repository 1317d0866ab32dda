/**
 * Domain events: every change in the swarm, as viewers receive it.
 *
 * Each event is an envelope `{ seq, type, at, ...data }`. `seq` is assigned
 * by the server, strictly increasing, and never reused while it runs.
 *
 * Events carry what changed (docs/protocol.md, "Events"). An entity a viewer
 * must hold from now on comes whole (`agent:added`, `task:added`): when it is
 * new, and whenever it comes back after a viewer may have let it go (a retried
 * task that had finished, a task restored at start). Every other agent or task
 * event is a partial update of an entity the viewer holds, merged into it by
 * `changes.ts`; the reducer skips and counts one for an entity it does not
 * hold (`SwarmState.unknown`), which a consistent stream never sends. What
 * viewers hold of a task is a `TaskSummary`: no payload, no result; the detail
 * route `GET /api/tasks/:id` serves those.
 */
import type { Agent, AgentResources, Alert, MetricsSample, Task, TaskStatus, TaskSummary } from './domain'
import type { KindState } from './kinds'
import type { Schedule, ScheduleSummary } from './schedules'
import type { LogLevel } from './statuses'

/**
 * What changed in an agent the viewer holds: each field present replaces the
 * held one, absent ones are unchanged; `resources` merges figure by figure
 * (a heartbeat carries only the figures that changed).
 */
export type AgentChange = { agentId: string } & Partial<Omit<Agent, 'id' | 'resources'>> & {
    resources?: AgentResources
  }

/**
 * A task's status change: its status, agent, attempt and error as of `at`
 * (which is its new `updatedAt`), and the run figures that changed with it.
 */
export interface TaskStatusChange {
  taskId: string
  status: TaskStatus
  agentId: string | null
  attempts: number
  /** Runs cut short by a requeue (agent lost, server restart), not retries; absent: none (0). */
  requeues?: number
  /** The task's error while it has one; absent: none (null). */
  error?: string
  /** Present when it changed. */
  progress?: number
  /** Present when it changed (the attempt started running). */
  startedAt?: number
  /** Present when it changed (the task ended). */
  finishedAt?: number
}

interface EventData {
  'agent:added': { agent: Agent }
  'agent:status': AgentChange
  'agent:removed': { agentId: string }
  'task:added': { task: TaskSummary }
  'task:status': TaskStatusChange
  'task:progress': { taskId: string; progress: number }
  'task:log': { taskId: string; agentId: string | null; level: LogLevel; message: string }
  metrics: { sample: MetricsSample }
  alert: { alert: Alert }
  /**
   * A kind's limits changed (an operator's `kind:update`, the stored ones at start) or its rate window filled:
   * its whole state, an upsert; back at the defaults (not paused, no limits) it leaves what a viewer holds.
   */
  'kind:limits': KindState
  /** A schedule was created, paused, resumed or made a run (its last run, next run, waiting run): whole, an upsert. */
  schedule: { schedule: ScheduleSummary }
  'schedule:removed': { scheduleId: string }
}

export type { LogLevel }

export type DomainEventType = keyof EventData

export type EventOf<T extends DomainEventType> = { seq: number; type: T; at: number } & EventData[T]

export type DomainEvent = { [T in DomainEventType]: EventOf<T> }[DomainEventType]

/** An event before the pipeline has given it a sequence number. */
export type UnsequencedEvent = { [T in DomainEventType]: Omit<EventOf<T>, 'seq'> }[DomainEventType]

/**
 * A change as the core's parts announce it (the coordinator, the metrics
 * sampler, the alerts engine): agents and tasks whole, payload and result
 * included. The history and the sampler read these; the pipeline turns each
 * into the `DomainEvent` viewers get (src/main/core/pipeline/slim.ts). Never
 * sent on the wire.
 */
export type SwarmChange =
  | { type: 'agent:status'; at: number; agent: Agent }
  | { type: 'task:status'; at: number; task: Task }
  | Omit<EventOf<'agent:removed'>, 'seq'>
  | Omit<EventOf<'task:log'>, 'seq'>
  | Omit<EventOf<'metrics'>, 'seq'>
  | Omit<EventOf<'alert'>, 'seq'>
  | Omit<EventOf<'kind:limits'>, 'seq'>
  | { type: 'schedule'; at: number; schedule: Schedule }
  | Omit<EventOf<'schedule:removed'>, 'seq'>

/**
 * `operator`: what operators set beside the tasks, per-kind limits and schedules. A channel of its own, so a
 * viewer that narrowed to tasks or agents is not sent them, and one that widens to it gets a snapshot with them.
 */
export const CHANNELS = ['agents', 'tasks', 'metrics', 'logs', 'alerts', 'operator'] as const
export type Channel = (typeof CHANNELS)[number]

export const EVENT_CHANNEL: Record<DomainEventType, Channel> = {
  'agent:added': 'agents',
  'agent:status': 'agents',
  'agent:removed': 'agents',
  'task:added': 'tasks',
  'task:status': 'tasks',
  'task:progress': 'tasks',
  'task:log': 'logs',
  metrics: 'metrics',
  alert: 'alerts',
  'kind:limits': 'operator',
  schedule: 'operator',
  'schedule:removed': 'operator',
}
