/// <reference types="vite/client" />
// (for import.meta.hot when the unit tests compile this file with the Node tsconfig)
/**
 * The swarm as this viewer knows it: agents, tasks, metrics, alerts and the
 * seq of the last event applied.
 *
 * Collections are plain Maps and arrays held in shallowRefs: the entities are
 * replaced whole on every event (events carry full state), so deep reactivity
 * would only cost proxies. Each batch of events mutates the collections and
 * then triggers every touched ref once.
 *
 * This store knows nothing about sockets. The server guarantees that, on
 * one connection, every event after the snapshot arrives once and in seq
 * order (seq may skip numbers: coalesced states and unsubscribed channels);
 * after a reconnect it resumes from `lastSeq` or sends a fresh snapshot. So
 * the one rule here: an event at or below `lastSeq` is never applied again.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { markRaw, ref, shallowRef, triggerRef } from 'vue'
import { isTerminalStatus } from '../statuses'
import type { Agent, Alert, MetricsSample, Task } from '../../../shared/domain'
import type { DomainEvent, LogLevel } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import { scheduleFrame } from './frame'
import { LogTail } from './swarm.logs'
import { ResourceHistory } from './swarm.resources'
import { TaskOrder } from './swarm.tasks'
import type { ResourcePoint } from './swarm.resources'
import { createSwarmViews } from './swarm.views'

export type { SwarmLogLine } from './swarm.logs'
export type { ResourcePoint } from './swarm.resources'

export const SWARM_LIMITS = {
  /** Finished tasks kept besides every active one, unless `setFinishedLimit` says otherwise. */
  finishedTasks: 500,
  /** The most `setFinishedLimit` accepts. */
  maxFinishedTasks: 200_000,
  /** Lines of the swarm-wide log tail. */
  swarmLogLines: 5000,
  /** Resource figures kept per agent (one per heartbeat). */
  resourcePoints: 120,
  /** One hour of one-second samples. */
  metricsSamples: 3600,
  logLinesPerTask: 200,
  /** Tasks (known or not) whose log tails are kept. */
  logTails: 1000,
  alerts: 200,
} as const

export interface LogLine {
  seq: number
  at: number
  level: LogLevel
  message: string
}

export const useSwarmStore = defineStore('swarm', () => {
  // Also kept outside the ref, for reads that must not subscribe (see agentOrder).
  let agentMap = markRaw(new Map<string, Agent>())
  const agents = shallowRef(agentMap)
  const tasks = shallowRef(markRaw(new Map<string, Task>()))
  const taskLogs = shallowRef(markRaw(new Map<string, LogLine[]>()))
  /** Oldest first, bounded by `SWARM_LIMITS.metricsSamples`. */
  const metrics = shallowRef<MetricsSample[]>(markRaw([]))
  const alerts = shallowRef(markRaw(new Map<string, Alert>()))
  /** The swarm-wide log tail, oldest first; the array is mutated in place and triggered per batch. */
  const tail = markRaw(new LogTail(SWARM_LIMITS.swarmLogLines))
  const swarmLogs = shallowRef(tail.lines)
  const resources = markRaw(new ResourceHistory(SWARM_LIMITS.resourcePoints))
  /** Bumped when an agent's resource history grows. */
  const resourceVersion = ref(0)
  /** Finished tasks kept; the oldest finished go first. */
  const finishedLimit = ref<number>(SWARM_LIMITS.finishedTasks)
  const lastSeq = ref(0)
  const hasSnapshot = ref(false)
  /** Epoch ms (this machine's clock) when data last arrived, by push or by polling. */
  const receivedAt = ref<number | null>(null)
  /**
   * Bumped only when agents join, leave or are renamed: the sorted order
   * depends on nothing else, so status updates do not re-sort a thousand names.
   */
  const agentOrderVersion = ref(0)

  // Bookkeeping, not state. Insertion order of `finishedOrder` is the order
  // tasks finished in, so the oldest finished task is always its first key.
  let finishedOrder = new Map<string, true>()
  const order = new TaskOrder()
  let frameQueue: DomainEvent[] = []
  let flushScheduled = false

  const touched = {
    agents: false,
    agentOrder: false,
    tasks: false,
    logs: false,
    metrics: false,
    alerts: false,
    resources: false,
  }

  /** Replaces the whole state with the server's (a fresh connection, or REST polling). */
  function applySnapshot(snapshot: Snapshot): void {
    // Anything still queued came before this snapshot on the wire, or from a
    // previous server process: the snapshot supersedes it either way.
    frameQueue = []
    replaceState(snapshot)
  }

  /** Applies a batch now. Events at or below `lastSeq` are skipped: never applied twice. */
  function applyEvents(events: readonly DomainEvent[]): void {
    ingest(events)
    commit()
  }

  /** Applies a batch on the next animation frame, together with whatever else arrives before it. */
  function enqueueEvents(events: readonly DomainEvent[]): void {
    for (const event of events) frameQueue.push(event)
    if (flushScheduled) return
    flushScheduled = true
    scheduleFrame(flushQueue)
  }

  function flushQueue(): void {
    flushScheduled = false
    const batch = frameQueue
    frameQueue = []
    if (batch.length > 0) applyEvents(batch)
  }

  function replaceState(snapshot: Snapshot): void {
    agentMap = markRaw(new Map(snapshot.agents.map((agent) => [agent.id, agent])))
    agents.value = agentMap
    agentOrderVersion.value++
    resources.retain(new Set(agentMap.keys()))
    for (const agent of snapshot.agents) resources.record(agent)
    resourceVersion.value++

    const active: Task[] = []
    const finished: Task[] = []
    for (const task of snapshot.tasks) (isTerminalStatus(task.status) ? finished : active).push(task)
    finished.sort((a, b) => finishTime(a) - finishTime(b))
    const keptFinished = finished.slice(-finishedLimit.value)
    tasks.value = markRaw(new Map([...active, ...keptFinished].map((task) => [task.id, task])))
    finishedOrder = new Map(keptFinished.map((task) => [task.id, true]))
    order.reset(tasks.value.values())

    const logs = new Map<string, LogLine[]>()
    for (const [taskId, lines] of taskLogs.value) if (tasks.value.has(taskId)) logs.set(taskId, lines)
    taskLogs.value = markRaw(logs)

    const history = [...(snapshot.metrics?.history ?? [])]
    const current = snapshot.metrics?.current
    if (current && (history.length === 0 || history[history.length - 1]!.at < current.at)) history.push(current)
    metrics.value = markRaw(history.slice(-SWARM_LIMITS.metricsSamples))

    const alertList = [...(snapshot.alerts ?? [])].sort((a, b) => a.at - b.at).slice(-SWARM_LIMITS.alerts)
    alerts.value = markRaw(new Map(alertList.map((alert) => [alert.id, alert])))

    lastSeq.value = snapshot.seq
    hasSnapshot.value = true
    receivedAt.value = Date.now()
  }

  function ingest(events: readonly DomainEvent[]): void {
    const ordered = isAscending(events) ? events : [...events].sort((a, b) => a.seq - b.seq)
    let seq = lastSeq.value
    for (const event of ordered) {
      if (event.seq <= seq) continue
      apply(event)
      seq = event.seq
    }
    lastSeq.value = seq
  }

  function apply(event: DomainEvent): void {
    switch (event.type) {
      case 'agent:status': {
        const previous = agents.value.get(event.agent.id)
        if (previous?.name !== event.agent.name) touched.agentOrder = true
        agents.value.set(event.agent.id, event.agent)
        touched.agents = true
        if (resources.record(event.agent)) touched.resources = true
        break
      }
      case 'agent:removed':
        if (agents.value.delete(event.agentId)) touched.agentOrder = true
        resources.forget(event.agentId)
        touched.agents = true
        break
      case 'task:status':
        upsertTask(event.task)
        touched.tasks = true
        break
      case 'task:log':
        if (event.taskId) {
          appendLog(event.taskId, { seq: event.seq, at: event.at, level: event.level, message: event.message })
        }
        tail.push({
          seq: event.seq,
          at: event.at,
          level: event.level,
          message: event.message,
          taskId: event.taskId,
          agentId: event.agentId,
        })
        touched.logs = true
        break
      case 'metrics':
        pushSample(event.sample)
        touched.metrics = true
        break
      case 'alert':
        upsertAlert(event.alert)
        touched.alerts = true
        break
    }
  }

  function upsertTask(task: Task): void {
    const previous = tasks.value.get(task.id)
    tasks.value.set(task.id, task)
    if (previous && previous.createdAt !== task.createdAt) order.remove(previous)
    order.upsert(task)
    finishedOrder.delete(task.id)
    if (!isTerminalStatus(task.status)) return
    finishedOrder.set(task.id, true)
    evictFinished()
  }

  /** Drops the oldest finished tasks beyond the limit. */
  function evictFinished(): void {
    while (finishedOrder.size > finishedLimit.value) {
      const oldest = finishedOrder.keys().next().value as string
      finishedOrder.delete(oldest)
      const task = tasks.value.get(oldest)
      if (task) order.remove(task)
      tasks.value.delete(oldest)
      if (taskLogs.value.delete(oldest)) touched.logs = true
    }
  }

  /** How many finished tasks to keep (besides every active one); lowering it drops the oldest now. */
  function setFinishedLimit(limit: number): void {
    const next = Math.max(1, Math.min(SWARM_LIMITS.maxFinishedTasks, Math.floor(limit)))
    if (next === finishedLimit.value) return
    finishedLimit.value = next
    if (finishedOrder.size <= next) return
    evictFinished()
    touched.tasks = true
    commit()
  }

  function appendLog(taskId: string, line: LogLine): void {
    const logs = taskLogs.value
    let tail = logs.get(taskId)
    if (!tail) {
      tail = []
      logs.set(taskId, tail)
      if (logs.size > SWARM_LIMITS.logTails) logs.delete(logs.keys().next().value as string)
    }
    tail.push(line)
    if (tail.length > SWARM_LIMITS.logLinesPerTask) tail.splice(0, tail.length - SWARM_LIMITS.logLinesPerTask)
  }

  function pushSample(sample: MetricsSample): void {
    const history = metrics.value
    const last = history[history.length - 1]
    if (last && sample.at <= last.at) return
    history.push(sample)
    // Trim in chunks so a full hour does not shift the array on every sample.
    if (history.length > SWARM_LIMITS.metricsSamples + 60)
      history.splice(0, history.length - SWARM_LIMITS.metricsSamples)
  }

  function upsertAlert(alert: Alert): void {
    const map = alerts.value
    map.delete(alert.id)
    map.set(alert.id, alert)
    if (map.size > SWARM_LIMITS.alerts) map.delete(map.keys().next().value as string)
  }

  function commit(): void {
    const any = Object.values(touched).some(Boolean)
    if (touched.agentOrder) agentOrderVersion.value++
    if (touched.agents) triggerRef(agents)
    if (touched.tasks) triggerRef(tasks)
    if (touched.logs) triggerRef(taskLogs)
    if (touched.metrics) triggerRef(metrics)
    if (touched.alerts) triggerRef(alerts)
    if (touched.logs) triggerRef(swarmLogs)
    if (touched.resources) resourceVersion.value++
    for (const key of Object.keys(touched) as (keyof typeof touched)[]) touched[key] = false
    if (any) receivedAt.value = Date.now()
  }

  const views = createSwarmViews({
    agents,
    agentOrderVersion,
    untrackedAgents: () => agentMap,
    tasks,
    taskOrder: order,
    metrics,
    alerts,
  })

  function logsOf(taskId: string): readonly LogLine[] {
    return taskLogs.value.get(taskId) ?? []
  }

  /** An agent's recent resource figures, oldest first (reactive through `resourceVersion`). */
  function resourcesOf(agentId: string): readonly ResourcePoint[] {
    void resourceVersion.value
    return resources.of(agentId)
  }

  /** Empties the swarm-wide log tail (the per-task tails stay). */
  function clearSwarmLogs(): void {
    tail.clear()
    triggerRef(swarmLogs)
  }

  return {
    agents,
    tasks,
    taskLogs,
    metrics,
    alerts,
    swarmLogs,
    resourceVersion,
    finishedLimit,
    lastSeq,
    hasSnapshot,
    receivedAt,
    ...views,
    applySnapshot,
    applyEvents,
    enqueueEvents,
    logsOf,
    resourcesOf,
    clearSwarmLogs,
    setFinishedLimit,
  }
})

function finishTime(task: Task): number {
  return task.finishedAt ?? task.updatedAt
}

function isAscending(events: readonly DomainEvent[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i]!.seq < events[i - 1]!.seq) return false
  return true
}

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSwarmStore, import.meta.hot))
