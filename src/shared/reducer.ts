/**
 * The one reducer: how a viewer turns a snapshot plus events into the swarm.
 * The renderer's store, the SDK's and scripts' viewers, the tests and the
 * bench all hold state through these functions, so a property test of them
 * proves what ships.
 *
 * The rules, once:
 * - A snapshot replaces everything (it may come from another server process,
 *   with a lower seq); the swarm-wide log tail alone stays, as a page of
 *   history the user was reading.
 * - Events apply in seq order; one at or below the seq held is never applied
 *   again (counted in `duplicates`, which stays 0 when delivery is right).
 * - `agent:added`, `task:added` and `alert` carry whole states: applying one
 *   is an upsert. `agent:status`, `task:status` and `task:progress` carry what
 *   changed and merge into the entity held (`changes.ts`); one for an entity
 *   not held is skipped and counted in `unknown` — a consistent stream never
 *   sends one (the server sends an entity whole whenever a viewer may not hold
 *   it), so above 0 it means the viewer's copy left the server's, as when it
 *   narrowed its subscription and resumed. A snapshot heals it.
 * - Every active task is kept, and the latest `finishedTasks` finished ones;
 *   the oldest finished leaves first, with its log tail.
 * - Logs, metrics samples and alerts are bounded (`SwarmLimits`).
 * - Kinds' limits and schedules come whole (`kind:limits`, `schedule`): upserts;
 *   a kind back at its defaults, or a removed schedule, leaves. The server
 *   bounds both (1,000 kinds with limits, 200 schedules).
 *
 * Deterministic and free of I/O, time and globals, but not copy-on-write: it
 * mutates the state it is handed. Copying a 100,000-task Map per event would
 * cost milliseconds at 2,000 events/s. A holder that needs to know what
 * changed (the store, to trigger its refs and keep its indexes) passes a
 * `SwarmObserver`.
 */
import { applyAgentChange, applyTaskEvent, type TaskEvent } from './changes'
import type { Agent, Alert, MetricsSample, TaskSummary } from './domain'
import type { DomainEvent } from './events'
import {
  kindOf,
  putKind,
  putSchedule,
  removeSchedule,
  type OperatorObserver,
  type OperatorState,
} from './operator-state'
import { LogTail, type SwarmLogLine } from './log-tail'
import type { Snapshot } from './protocol'
import { isTerminal } from './statuses'

export type { SwarmLogLine } from './log-tail'

/** How much a viewer keeps. 0 keeps none (a bench viewer needs no logs). */
export interface SwarmLimits {
  /** Finished tasks kept besides every active one. */
  finishedTasks: number
  /** Lines of the swarm-wide log tail. */
  swarmLogLines: number
  logLinesPerTask: number
  /** Tasks (known or not) whose log tails are kept; the oldest tail leaves first. */
  logTails: number
  /** One hour of one-second samples. */
  metricsSamples: number
  alerts: number
}

export const SWARM_LIMITS: Readonly<SwarmLimits> = Object.freeze({
  finishedTasks: 500,
  swarmLogLines: 5000,
  logLinesPerTask: 200,
  logTails: 1000,
  metricsSamples: 3600,
  alerts: 200,
})

export interface SwarmState extends OperatorState {
  /** The seq of the snapshot or of the last event applied; 0 before any. */
  seq: number
  hasSnapshot: boolean
  /** Events that came at or below `seq` and were skipped: a delivery bug if ever above 0. */
  duplicates: number
  /** Updates for an agent or task not held here, skipped: 0 in a consistent stream (see above). */
  unknown: number
  readonly limits: SwarmLimits
  agents: Map<string, Agent>
  tasks: Map<string, TaskSummary>
  /** The finished tasks held, in the order they finished: the first key leaves first. */
  finished: Map<string, true>
  /** Each task's latest log lines, oldest first. */
  taskLogs: Map<string, SwarmLogLine[]>
  /** Every log line, swarm-wide, oldest first. */
  readonly log: LogTail
  /** Oldest first; trimmed in chunks, so it may briefly hold a few more than the limit. */
  metrics: MetricsSample[]
  /** Least recently changed first. */
  alerts: Map<string, Alert>
}

/** What a holder hears as events apply; every method is optional. */
export interface SwarmObserver extends OperatorObserver {
  /** `previous` is undefined when the agent is new here. */
  agentChanged?(agent: Agent, previous: Agent | undefined): void
  /** `previous` is undefined when the agent was not known here. */
  agentRemoved?(agentId: string, previous: Agent | undefined): void
  taskChanged?(task: TaskSummary, previous: TaskSummary | undefined): void
  /** A finished task left to keep the bound; `hadLogs`: its log tail went with it. */
  taskDropped?(task: TaskSummary, hadLogs: boolean): void
  logAppended?(line: SwarmLogLine): void
  sampleAdded?(sample: MetricsSample): void
  alertChanged?(alert: Alert): void
}

export function createSwarmState(limits: Partial<SwarmLimits> = {}): SwarmState {
  const own: SwarmLimits = { ...SWARM_LIMITS, ...limits }
  return {
    seq: 0,
    hasSnapshot: false,
    duplicates: 0,
    unknown: 0,
    limits: own,
    agents: new Map(),
    tasks: new Map(),
    finished: new Map(),
    taskLogs: new Map(),
    log: new LogTail(own.swarmLogLines),
    metrics: [],
    alerts: new Map(),
    kinds: new Map(),
    schedules: new Map(),
  }
}

/** Replaces the state with the server's (a fresh connection, a widened subscription, REST polling). */
export function applySnapshot(state: SwarmState, snapshot: Snapshot): void {
  const { limits } = state
  state.agents = new Map(snapshot.agents.map((agent) => [agent.id, agent]))

  const active: TaskSummary[] = []
  const finished: TaskSummary[] = []
  for (const task of snapshot.tasks) (isTerminal(task.status) ? finished : active).push(task)
  finished.sort((a, b) => finishTime(a) - finishTime(b))
  const kept = last(finished, limits.finishedTasks)
  state.tasks = new Map([...active, ...kept].map((task) => [task.id, task]))
  state.finished = new Map(kept.map((task) => [task.id, true]))

  const logs = new Map<string, SwarmLogLine[]>()
  for (const [taskId, lines] of state.taskLogs) if (state.tasks.has(taskId)) logs.set(taskId, lines)
  state.taskLogs = logs

  // `metrics` and `alerts` guarded: a REST snapshot is checked for seq, agents and tasks only.
  const history = [...(snapshot.metrics?.history ?? [])]
  const current = snapshot.metrics?.current
  if (current && (history.length === 0 || history[history.length - 1]!.at < current.at)) history.push(current)
  state.metrics = last(history, limits.metricsSamples)

  const alerts = last(
    [...(snapshot.alerts ?? [])].sort((a, b) => a.at - b.at),
    limits.alerts,
  )
  state.alerts = new Map(alerts.map((alert) => [alert.id, alert]))
  // Absent from servers older than them, and from a REST snapshot not checked for them.
  state.kinds = new Map((snapshot.kinds ?? []).map((kind) => [kind.kind, kind]))
  state.schedules = new Map((snapshot.schedules ?? []).map((schedule) => [schedule.id, schedule]))

  state.seq = snapshot.seq
  state.hasSnapshot = true
}

/** Applies a batch in seq order (sorting it if it is not); returns how many events were new. */
export function applyEvents(state: SwarmState, events: readonly DomainEvent[], observer?: SwarmObserver): number {
  const ordered = isAscending(events) ? events : [...events].sort((a, b) => a.seq - b.seq)
  let applied = 0
  for (const event of ordered) if (applyEvent(state, event, observer)) applied++
  return applied
}

/** Applies one event unless its seq is at or below the state's; returns whether it did. */
export function applyEvent(state: SwarmState, event: DomainEvent, observer?: SwarmObserver): boolean {
  if (event.seq <= state.seq) {
    state.duplicates++
    return false
  }
  state.seq = event.seq
  switch (event.type) {
    case 'agent:added':
      putAgent(state, event.agent, observer)
      break
    case 'agent:status': {
      const held = state.agents.get(event.agentId)
      if (held) putAgent(state, applyAgentChange(held, event), observer)
      else state.unknown++
      break
    }
    case 'agent:removed': {
      const previous = state.agents.get(event.agentId)
      state.agents.delete(event.agentId)
      observer?.agentRemoved?.(event.agentId, previous)
      break
    }
    case 'task:added':
      putTask(state, event.task, observer)
      break
    case 'task:status':
    case 'task:progress':
      changeTask(state, event.taskId, event, observer)
      break
    case 'task:log':
      appendLog(
        state,
        {
          seq: event.seq,
          at: event.at,
          level: event.level,
          message: event.message,
          taskId: event.taskId,
          agentId: event.agentId,
        },
        observer,
      )
      break
    case 'metrics':
      addSample(state, event.sample, observer)
      break
    case 'alert':
      putAlert(state, event.alert, observer)
      break
    case 'kind:limits':
      putKind(state, kindOf(event), observer)
      break
    case 'schedule':
      putSchedule(state, event.schedule, observer)
      break
    case 'schedule:removed':
      removeSchedule(state, event.scheduleId, observer)
      break
    default: {
      // A new event type fails to compile here until it has a case. At run
      // time a type this build does not know (a newer server) is skipped.
      const never: never = event
      void never
    }
  }
  return true
}

/** Changes how many finished tasks are kept; lowering it drops the oldest now. */
export function setFinishedLimit(state: SwarmState, limit: number, observer?: SwarmObserver): void {
  state.limits.finishedTasks = limit
  evictFinished(state, observer)
}

function putAgent(state: SwarmState, agent: Agent, observer: SwarmObserver | undefined): void {
  const previous = state.agents.get(agent.id)
  state.agents.set(agent.id, agent)
  observer?.agentChanged?.(agent, previous)
}

function changeTask(state: SwarmState, taskId: string, event: TaskEvent, observer: SwarmObserver | undefined): void {
  const held = state.tasks.get(taskId)
  if (held) putTask(state, applyTaskEvent(held, event), observer)
  else state.unknown++
}

function putTask(state: SwarmState, task: TaskSummary, observer: SwarmObserver | undefined): void {
  const previous = state.tasks.get(task.id)
  state.tasks.set(task.id, task)
  // A retried task leaves the finished order; it re-enters at the end when it finishes again.
  state.finished.delete(task.id)
  observer?.taskChanged?.(task, previous)
  if (!isTerminal(task.status)) return
  state.finished.set(task.id, true)
  evictFinished(state, observer)
}

function evictFinished(state: SwarmState, observer: SwarmObserver | undefined): void {
  const { finished, tasks, taskLogs, limits } = state
  while (finished.size > limits.finishedTasks) {
    const oldest = finished.keys().next().value as string
    finished.delete(oldest)
    const task = tasks.get(oldest)
    tasks.delete(oldest)
    const hadLogs = taskLogs.delete(oldest)
    if (task) observer?.taskDropped?.(task, hadLogs)
  }
}

function appendLog(state: SwarmState, line: SwarmLogLine, observer: SwarmObserver | undefined): void {
  const { taskLogs, limits } = state
  if (line.taskId && limits.logTails > 0 && limits.logLinesPerTask > 0) {
    let tail = taskLogs.get(line.taskId)
    if (!tail) {
      tail = []
      taskLogs.set(line.taskId, tail)
      if (taskLogs.size > limits.logTails) taskLogs.delete(taskLogs.keys().next().value as string)
    }
    tail.push(line)
    if (tail.length > limits.logLinesPerTask) tail.splice(0, tail.length - limits.logLinesPerTask)
  }
  state.log.push(line)
  observer?.logAppended?.(line)
}

function addSample(state: SwarmState, sample: MetricsSample, observer: SwarmObserver | undefined): void {
  const { metrics, limits } = state
  const previous = metrics[metrics.length - 1]
  // A sample no newer than the last one held is one the snapshot already had.
  if (previous && sample.at <= previous.at) return
  metrics.push(sample)
  // Trimmed in chunks, so a full hour does not shift the array on every sample.
  if (metrics.length > limits.metricsSamples + Math.min(60, Math.ceil(limits.metricsSamples / 10)))
    metrics.splice(0, metrics.length - limits.metricsSamples)
  observer?.sampleAdded?.(sample)
}

function putAlert(state: SwarmState, alert: Alert, observer: SwarmObserver | undefined): void {
  const { alerts, limits } = state
  // Re-inserted, so the least recently changed alert is the one that leaves.
  alerts.delete(alert.id)
  alerts.set(alert.id, alert)
  while (alerts.size > limits.alerts) alerts.delete(alerts.keys().next().value as string)
  observer?.alertChanged?.(alert)
}

function finishTime(task: TaskSummary): number {
  return task.finishedAt ?? task.updatedAt
}

/** The last `count` items (none for 0, unlike `slice(-0)`). */
function last<T>(items: T[], count: number): T[] {
  return items.length <= count ? items : items.slice(items.length - Math.max(0, count))
}

function isAscending(events: readonly DomainEvent[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i]!.seq < events[i - 1]!.seq) return false
  return true
}
