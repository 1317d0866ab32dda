/// <reference types="vite/client" />
// (for import.meta.hot when the unit tests compile this file with the Node tsconfig)
/**
 * The swarm as this viewer knows it: agents, tasks, metrics, alerts, the
 * kinds' limits and the schedules, and the seq of the last event applied.
 *
 * The rules for applying snapshots and events (the seq rule, upserts,
 * removals, which finished tasks stay, bounded logs, samples and alerts)
 * live once, in the shared reducer (src/shared/reducer.ts), which the tests
 * and the bench use too. This store wraps its state for Vue: the state's
 * Maps and arrays sit in shallowRefs (an entity is replaced by a new object on
 * every event, a partial update merged into a copy, so deep reactivity would
 * only cost proxies); the reducer's observer
 * notes what a batch touched, and the store triggers each touched ref once
 * per batch. What only views need is kept here, fed by the same observer:
 * the tasks in creation order, the agents' resource history, the version
 * that says when the agents' name order may have changed.
 *
 * This store knows nothing about sockets. The server guarantees that, on one
 * connection, every event after the snapshot arrives once and in seq order
 * (seq may skip numbers: coalesced states and unsubscribed channels); after
 * a reconnect it resumes from `lastSeq` or sends a fresh snapshot.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { markRaw, ref, shallowRef, triggerRef } from 'vue'
import type { DomainEvent } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import {
  SWARM_LIMITS as REDUCER_LIMITS,
  applyEvents as reduceEvents,
  applySnapshot as reduceSnapshot,
  createSwarmState,
  setFinishedLimit as reduceFinishedLimit,
  type SwarmLogLine,
  type SwarmObserver,
} from '../../../shared/reducer'
import { scheduleFrame } from './frame'
import { ResourceHistory } from './swarm.resources'
import { TaskOrder } from './swarm.tasks'
import type { ResourcePoint } from './swarm.resources'
import { createSwarmViews } from './swarm.views'

export type { SwarmLogLine } from '../../../shared/reducer'
export type { ResourcePoint } from './swarm.resources'
/** A task's log line (the same object as in the swarm-wide tail). */
export type LogLine = SwarmLogLine

export const SWARM_LIMITS = {
  ...REDUCER_LIMITS,
  /** The most `setFinishedLimit` accepts. */
  maxFinishedTasks: 200_000,
  /** Resource figures kept per agent (one per heartbeat). */
  resourcePoints: 120,
} as const

export const useSwarmStore = defineStore('swarm', () => {
  const state = markRaw(createSwarmState())
  const agents = shallowRef(markRaw(state.agents))
  const tasks = shallowRef(markRaw(state.tasks))
  const taskLogs = shallowRef(markRaw(state.taskLogs))
  /** Oldest first, bounded by `SWARM_LIMITS.metricsSamples`. */
  const metrics = shallowRef(markRaw(state.metrics))
  const alerts = shallowRef(markRaw(state.alerts))
  /** The kinds with limits set, by kind (`kind:limits`): the Queues panel and the task drawer's hold read them. */
  const kinds = shallowRef(markRaw(state.kinds))
  /** Every schedule, without what its runs submit (`schedule`, `schedule:removed`). */
  const schedules = shallowRef(markRaw(state.schedules))
  /** The swarm-wide log tail, oldest first; the array is mutated in place and triggered per batch. */
  const swarmLogs = shallowRef(markRaw(state.log.lines))
  const resources = markRaw(new ResourceHistory(SWARM_LIMITS.resourcePoints))
  /** Bumped when an agent's resource history grows. */
  const resourceVersion = ref(0)
  /** Finished tasks kept; the oldest finished go first. */
  const finishedLimit = ref<number>(state.limits.finishedTasks)
  const lastSeq = ref(state.seq)
  const hasSnapshot = ref(state.hasSnapshot)
  /** Epoch ms (this machine's clock) when data last arrived, by push or by polling. */
  const receivedAt = ref<number | null>(null)
  /**
   * Bumped only when agents join, leave or are renamed: the sorted order
   * depends on nothing else, so status updates do not re-sort a thousand names.
   */
  const agentOrderVersion = ref(0)

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
    kinds: false,
    schedules: false,
  }

  /** What the reducer changed, for the refs to trigger and the view indexes here. */
  const observer: SwarmObserver = {
    agentChanged(agent, previous) {
      if (previous?.name !== agent.name) touched.agentOrder = true
      touched.agents = true
      if (resources.record(agent)) touched.resources = true
    },
    agentRemoved(agentId, previous) {
      if (previous) touched.agentOrder = true
      resources.forget(agentId)
      touched.agents = true
    },
    taskChanged(task, previous) {
      if (previous && previous.createdAt !== task.createdAt) order.remove(previous)
      order.upsert(task)
      touched.tasks = true
    },
    taskDropped(task, hadLogs) {
      order.remove(task)
      touched.tasks = true
      if (hadLogs) touched.logs = true
    },
    logAppended() {
      touched.logs = true
    },
    sampleAdded() {
      touched.metrics = true
    },
    alertChanged() {
      touched.alerts = true
    },
    kindChanged() {
      touched.kinds = true
    },
    scheduleChanged() {
      touched.schedules = true
    },
  }

  /** Replaces the whole state with the server's (a fresh connection, or REST polling). */
  function applySnapshot(snapshot: Snapshot): void {
    // Anything still queued came before this snapshot on the wire, or from a
    // previous server process: the snapshot supersedes it either way.
    frameQueue = []
    reduceSnapshot(state, snapshot)

    agents.value = markRaw(state.agents)
    agentOrderVersion.value++
    resources.retain(new Set(state.agents.keys()))
    for (const agent of state.agents.values()) resources.record(agent)
    resourceVersion.value++
    tasks.value = markRaw(state.tasks)
    order.reset(state.tasks.values())
    taskLogs.value = markRaw(state.taskLogs)
    metrics.value = markRaw(state.metrics)
    alerts.value = markRaw(state.alerts)
    kinds.value = markRaw(state.kinds)
    schedules.value = markRaw(state.schedules)

    lastSeq.value = state.seq
    hasSnapshot.value = state.hasSnapshot
    receivedAt.value = Date.now()
  }

  /** Applies a batch now. Events at or below `lastSeq` are skipped: never applied twice. */
  function applyEvents(events: readonly DomainEvent[]): void {
    reduceEvents(state, events, observer)
    lastSeq.value = state.seq
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

  /** How many finished tasks to keep (besides every active one); lowering it drops the oldest now. */
  function setFinishedLimit(limit: number): void {
    const next = Math.max(1, Math.min(SWARM_LIMITS.maxFinishedTasks, Math.floor(limit)))
    if (next === finishedLimit.value) return
    finishedLimit.value = next
    reduceFinishedLimit(state, next, observer)
    commit()
  }

  function commit(): void {
    const any = Object.values(touched).some(Boolean)
    if (touched.agentOrder) agentOrderVersion.value++
    if (touched.agents) triggerRef(agents)
    if (touched.tasks) triggerRef(tasks)
    if (touched.logs) triggerRef(taskLogs)
    if (touched.metrics) triggerRef(metrics)
    if (touched.alerts) triggerRef(alerts)
    if (touched.kinds) triggerRef(kinds)
    if (touched.schedules) triggerRef(schedules)
    if (touched.logs) triggerRef(swarmLogs)
    if (touched.resources) resourceVersion.value++
    for (const key of Object.keys(touched) as (keyof typeof touched)[]) touched[key] = false
    if (any) receivedAt.value = Date.now()
  }

  const views = createSwarmViews({
    agents,
    agentOrderVersion,
    untrackedAgents: () => state.agents,
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
    state.log.clear()
    triggerRef(swarmLogs)
  }

  return {
    agents,
    tasks,
    taskLogs,
    metrics,
    alerts,
    kinds,
    schedules,
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

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSwarmStore, import.meta.hot))
