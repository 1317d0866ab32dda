/**
 * How a partial update merges into the entity a viewer holds, and how two
 * updates of one entity merge into one. Zod-free: the reducer applies updates
 * with these functions, and the server's batcher merges the updates of one
 * window with them, so that applying the merged event does exactly what
 * applying both did (the batching property in tests/unit/core/pipeline.test.ts).
 */
import type { Agent, Task, TaskStatus, TaskSummary } from './domain'
import type { AgentChange, DomainEvent, EventOf, TaskStatusChange } from './events'

/** The agent fields an `agent:status` may carry, besides `resources` (merged figure by figure). */
export const AGENT_CHANGE_FIELDS = Object.keys({
  name: true,
  kind: true,
  capabilities: true,
  kinds: true,
  status: true,
  concurrency: true,
  currentTaskIds: true,
  lastHeartbeat: true,
  joinedAt: true,
  counters: true,
  offline: true,
  // Typed as a Record of every Agent field but these two, so a new field must be listed here before it compiles.
} satisfies Record<Exclude<keyof Agent, 'id' | 'resources'>, true>) as Exclude<keyof Agent, 'id' | 'resources'>[]

export type TaskEvent = EventOf<'task:added'> | EventOf<'task:status'> | EventOf<'task:progress'>
export type AgentEvent = EventOf<'agent:added'> | EventOf<'agent:status'>

/** What viewers hold of a task: a copy without its payload and result. */
export function summarize(task: Task | TaskSummary): TaskSummary {
  return {
    id: task.id,
    name: task.name,
    kind: task.kind,
    priority: task.priority,
    capabilities: task.capabilities,
    status: task.status,
    agentId: task.agentId,
    attempts: task.attempts,
    requeues: task.requeues,
    maxRetries: task.maxRetries,
    timeoutMs: task.timeoutMs,
    progress: task.progress,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    error: task.error,
    // Absent unless the task has them, so a task without dependencies costs no bytes more.
    ...(task.dependsOn ? { dependsOn: task.dependsOn } : {}),
    ...(task.workflow ? { workflow: task.workflow } : {}),
  }
}

/**
 * The task and status an event states, for a program that follows statuses
 * without holding the swarm: `task:added` and `task:status` state one
 * (a short task's whole life may arrive as one `task:added`), the others none.
 */
export function taskStatusOf(event: DomainEvent): { taskId: string; status: TaskStatus } | null {
  if (event.type === 'task:added') return { taskId: event.task.id, status: event.task.status }
  if (event.type === 'task:status') return { taskId: event.taskId, status: event.status }
  return null
}

/** The agent with the change applied: a new object; the one given is left as it was. */
export function applyAgentChange(agent: Agent, change: AgentChange): Agent {
  const next: Agent = { ...agent }
  for (const field of AGENT_CHANGE_FIELDS) copyField(next, change, field)
  if (change.resources) next.resources = { ...agent.resources, ...change.resources }
  return next
}

/** The task with a status change applied at `at` (its new `updatedAt`): a new object. */
export function applyTaskStatus(task: TaskSummary, change: TaskStatusChange, at: number): TaskSummary {
  const next: TaskSummary = {
    ...task,
    status: change.status,
    agentId: change.agentId,
    attempts: change.attempts,
    requeues: change.requeues ?? 0,
    error: change.error ?? null,
    updatedAt: at,
  }
  if (change.progress !== undefined) next.progress = change.progress
  if (change.startedAt !== undefined) next.startedAt = change.startedAt
  if (change.finishedAt !== undefined) next.finishedAt = change.finishedAt
  return next
}

/** The task after any task event: whole for `task:added`, merged for the others. */
export function applyTaskEvent(task: TaskSummary, event: TaskEvent): TaskSummary {
  switch (event.type) {
    case 'task:added':
      return event.task
    case 'task:status':
      return applyTaskStatus(task, event, event.at)
    case 'task:progress':
      return { ...task, progress: event.progress, updatedAt: event.at }
  }
}

/**
 * One event that does what `earlier` then `later` (both about one task) do,
 * with `later`'s seq and time. Whole wins over partial: a `task:added` later
 * replaces everything, one earlier absorbs the updates after it.
 */
export function mergeTaskEvents(earlier: TaskEvent, later: TaskEvent): TaskEvent {
  if (later.type === 'task:added') return later
  if (earlier.type === 'task:added') {
    return { seq: later.seq, type: 'task:added', at: later.at, task: applyTaskEvent(earlier.task, later) }
  }
  if (later.type === 'task:progress') {
    if (earlier.type === 'task:progress') return later
    return { ...earlier, seq: later.seq, at: later.at, progress: later.progress }
  }
  // A status change states the whole status group; the run figures it lacks keep the earlier event's.
  const merged: EventOf<'task:status'> = { ...later }
  if (merged.progress === undefined && earlier.progress !== undefined) merged.progress = earlier.progress
  if (earlier.type === 'task:status') {
    if (merged.startedAt === undefined && earlier.startedAt !== undefined) merged.startedAt = earlier.startedAt
    if (merged.finishedAt === undefined && earlier.finishedAt !== undefined) merged.finishedAt = earlier.finishedAt
  }
  return merged
}

/** One event that does what `earlier` then `later` (both about one agent) do, with `later`'s seq and time. */
export function mergeAgentEvents(earlier: AgentEvent, later: AgentEvent): AgentEvent {
  if (later.type === 'agent:added') return later
  if (earlier.type === 'agent:added') {
    return { seq: later.seq, type: 'agent:added', at: later.at, agent: applyAgentChange(earlier.agent, later) }
  }
  const merged: EventOf<'agent:status'> = { ...earlier, ...later }
  if (earlier.resources && later.resources) merged.resources = { ...earlier.resources, ...later.resources }
  return merged
}

function copyField<K extends keyof Agent>(target: Agent, change: Partial<Agent>, field: K): void {
  const value = change[field]
  if (value !== undefined) target[field] = value as Agent[K]
}
