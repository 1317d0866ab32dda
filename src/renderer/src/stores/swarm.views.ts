/**
 * What the components read from the swarm store: sorted lists and totals,
 * derived from its collections. Each recomputes at most once per committed
 * batch of events (the collections are shallowRefs triggered once per batch).
 */
import { computed } from 'vue'
import type { Ref } from 'vue'
import type { Agent, AgentStatus, Alert, MetricsSample, TaskSummary } from '../../../shared/domain'
import { naturalCompare } from '../format'
import { recentRates, taskDurations } from '../metrics'
import type { Durations, RecentRates } from '../metrics'
import { AGENT_STATUS_LIST, isFailure, isOnAgent } from '../statuses'
import type { TaskOrder } from './swarm.tasks'

export interface TaskTotals {
  queued: number
  running: number
  succeeded: number
  failed: number
  /** Succeeded / (succeeded + failed), null before anything finished. */
  successRate: number | null
}

export interface SwarmSources {
  agents: Readonly<Ref<Map<string, Agent>>>
  /** Bumped when agents join, leave or are renamed. */
  agentOrderVersion: Readonly<Ref<number>>
  /** The agents without subscribing to them. */
  untrackedAgents: () => Map<string, Agent>
  tasks: Readonly<Ref<Map<string, TaskSummary>>>
  /** The tasks' ids in creation order, maintained by the store. */
  taskOrder: TaskOrder
  metrics: Readonly<Ref<MetricsSample[]>>
  alerts: Readonly<Ref<Map<string, Alert>>>
}

export function createSwarmViews({
  agents,
  agentOrderVersion,
  untrackedAgents,
  tasks,
  taskOrder,
  metrics,
  alerts,
}: SwarmSources) {
  const agentOrder = computed(() => {
    void agentOrderVersion.value
    // Untracked: status updates must not re-sort a thousand names, only the version.
    return [...untrackedAgents().values()]
      .sort((a, b) => naturalCompare(a.name, b.name) || naturalCompare(a.id, b.id))
      .map((agent) => agent.id)
  })

  /** Ids and names in name order, for pickers: changes only when agents join, leave or are renamed. */
  const agentNames = computed(() => {
    const map = untrackedAgents()
    return agentOrder.value.map((id) => ({ id, name: map.get(id)?.name ?? id }))
  })

  /** Sorted by name (natural order). */
  const agentList = computed(() => {
    const map = agents.value
    const list: Agent[] = []
    for (const id of agentOrder.value) {
      const agent = map.get(id)
      if (agent) list.push(agent)
    }
    return list
  })

  /** Newest first (by creation). */
  const taskList = computed(() => {
    void tasks.value // triggered once per batch that touched tasks; the order is kept alongside
    return taskOrder.newestFirst()
  })

  const agentCounts = computed(() => {
    const counts = Object.fromEntries(AGENT_STATUS_LIST.map((status) => [status, 0])) as Record<AgentStatus, number>
    for (const agent of agents.value.values()) counts[agent.status]++
    return counts
  })

  const latestSample = computed<MetricsSample | null>(() => metrics.value[metrics.value.length - 1] ?? null)

  const totals = computed<TaskTotals>(() => {
    const sample = latestSample.value
    let queued = 0
    let running = 0
    let succeeded = sample?.succeeded ?? 0
    let failed = sample?.failed ?? 0
    if (sample) {
      queued = sample.queued
      running = sample.running
    } else {
      // No metrics yet: count what this viewer holds.
      for (const task of tasks.value.values()) {
        if (task.status === 'queued') queued++
        else if (isOnAgent(task.status)) running++
        else if (task.status === 'succeeded') succeeded++
        else if (isFailure(task.status)) failed++
      }
    }
    const finished = succeeded + failed
    return {
      queued,
      running,
      succeeded,
      failed,
      successRate: finished > 0 ? succeeded / finished : null,
    }
  })

  /** Newest first. */
  const alertList = computed(() => [...alerts.value.values()].sort((a, b) => b.at - a.at))

  /** Alerts whose condition still holds. */
  const activeAlerts = computed(() => alertList.value.filter((alert) => !alert.resolvedAt))
  /** Active alerts nobody acknowledged that want attention: info ones (an agent that stopped cleanly) do not. */
  const unacknowledgedAlerts = computed(
    () => activeAlerts.value.filter((alert) => !alert.acknowledged && alert.severity !== 'info').length,
  )

  /** Succeeded and failed per minute and the success rate, over the last minute of samples. */
  const lastMinute = computed<RecentRates | null>(() => {
    void latestSample.value
    return recentRates(metrics.value)
  })

  /** Task run time p50 / p95 over the last minute. */
  const durations = computed<Durations>(() => {
    const sample = latestSample.value
    // Only from the tasks when the server does not send them: that pass is O(tasks).
    if (sample && sample.durationP50Ms !== undefined) return taskDurations(sample, [], sample.at)
    return taskDurations(sample, tasks.value.values(), sample?.at ?? Date.now())
  })

  /** Every capability some agent has, sorted. */
  const capabilities = computed(() => {
    void agentOrderVersion.value
    const set = new Set<string>()
    for (const agent of untrackedAgents().values()) for (const capability of agent.capabilities) set.add(capability)
    return [...set].sort(naturalCompare)
  })

  return {
    agentNames,
    agentList,
    taskList,
    agentCounts,
    latestSample,
    totals,
    alertList,
    activeAlerts,
    unacknowledgedAlerts,
    lastMinute,
    durations,
    capabilities,
  }
}
