/**
 * Where whole states become slim events: each `SwarmChange` (an agent or a
 * task whole, as the coordinator announces it) becomes the `DomainEvent`
 * viewers and the replay buffer get, carrying what changed since the state
 * viewers were last told — or the entity whole whenever a viewer may not hold
 * it. docs/protocol.md ("Events") states the contract.
 *
 * Why at this boundary and not in the coordinator: the history stores the
 * whole task (payload and result go into its row) and the sampler reads run
 * times, so the parts keep announcing whole states; and whether a viewer can
 * take a partial update is a rule of delivery, decided once, here, from what
 * this process has announced:
 * - an entity not announced yet, or forgotten, goes whole (`agent:added`,
 *   `task:added`). A new process has announced nothing: tasks restored at
 *   start go whole.
 * - a task is forgotten when it ends: a viewer keeps only its latest finished
 *   tasks (500 by default), so it may have let it go, and a retry brings it
 *   back whole. An agent is forgotten when it is removed; one that registers
 *   again while still listed (a reconnect) is updated.
 * - a change this vocabulary cannot express (a field fixed at submit, a run
 *   time going back to null, resources going away) goes whole too, so a new
 *   kind of change in the coordinator costs bytes, never a diverging viewer.
 * Snapshots hold every agent and every active task, so a viewer that starts
 * from one holds every entity that gets partial updates after it.
 *
 * Memory: the last whole state announced per agent and per unfinished task —
 * the copies the coordinator already made for the change.
 */
import { AGENT_CHANGE_FIELDS, summarize } from '../../../shared/changes'
import type { Agent, AgentResources, Task } from '../../../shared/domain'
import { summarizeSchedule } from '../../../shared/schedules'
import { isTerminal } from '../../../shared/statuses'
import type { AgentChange, SwarmChange, TaskStatusChange, UnsequencedEvent } from '../../../shared/events'

/** What a task field is to a viewer: fixed at submit, its status, its run figures, its time, or detail only. */
type TaskFieldRole = 'fixed' | 'status' | 'run' | 'time' | 'detail'

/** Exhaustive: a new task field must say what it is to viewers before this compiles. */
const TASK_FIELDS: Record<keyof Task, TaskFieldRole> = {
  id: 'fixed',
  name: 'fixed',
  kind: 'fixed',
  payload: 'detail',
  priority: 'fixed',
  capabilities: 'fixed',
  status: 'status',
  agentId: 'status',
  attempts: 'status',
  requeues: 'status',
  maxRetries: 'fixed',
  timeoutMs: 'fixed',
  progress: 'run',
  createdAt: 'fixed',
  updatedAt: 'time',
  startedAt: 'run',
  finishedAt: 'run',
  result: 'detail',
  error: 'status',
  dependsOn: 'fixed',
  workflow: 'fixed',
  // Set with the cancel and gone with the retry: a viewer sees those as status changes, and the detail shows it.
  cancelledByDependency: 'detail',
}
const TASK_FIELD_NAMES = Object.keys(TASK_FIELDS) as (keyof Task)[]

export class Slimmer {
  /** The last state announced of each unfinished task. */
  private readonly tasks = new Map<string, Task>()
  /** The last state announced of each listed agent. */
  private readonly agents = new Map<string, Agent>()

  /** The event for viewers; null when nothing they hold changed (it is then not sent, nor numbered). */
  project(change: SwarmChange): UnsequencedEvent | null {
    switch (change.type) {
      case 'task:status':
        return this.task(change.at, change.task)
      case 'agent:status':
        return this.agent(change.at, change.agent)
      case 'agent:removed':
        this.agents.delete(change.agentId)
        return change
      // A schedule goes without what its runs submit (a workflow may be large): the detail route serves that.
      case 'schedule':
        return { type: 'schedule', at: change.at, schedule: summarizeSchedule(change.schedule) }
      case 'task:log':
      case 'metrics':
      case 'alert':
      case 'kind:limits':
      case 'schedule:removed':
        return change
      default: {
        const never: never = change
        return never
      }
    }
  }

  /** Entities announced and not forgotten: what the slim events may update (for tests and figures). */
  get held(): { agents: number; tasks: number } {
    return { agents: this.agents.size, tasks: this.tasks.size }
  }

  private task(at: number, task: Task): UnsequencedEvent | null {
    const previous = this.tasks.get(task.id)
    if (isTerminal(task.status)) this.tasks.delete(task.id)
    else this.tasks.set(task.id, task)
    if (!previous) return { type: 'task:added', at, task: summarize(task) }

    let statusChanged = false
    const run: Pick<TaskStatusChange, 'progress' | 'startedAt' | 'finishedAt'> = {}
    for (const field of TASK_FIELD_NAMES) {
      const role = TASK_FIELDS[field]
      // Viewers never hold the detail, and `at` carries the time.
      if (role === 'detail' || role === 'time' || same(previous[field], task[field])) continue
      if (role === 'fixed') return { type: 'task:added', at, task: summarize(task) }
      if (role === 'status') {
        statusChanged = true
        continue
      }
      const value = task[field as keyof typeof run]
      if (value === null) return { type: 'task:added', at, task: summarize(task) }
      run[field as keyof typeof run] = value
    }
    if (statusChanged || run.startedAt !== undefined || run.finishedAt !== undefined) {
      const { id, status, agentId, attempts, requeues, error } = task
      return {
        type: 'task:status',
        at: task.updatedAt,
        taskId: id,
        status,
        agentId,
        attempts,
        ...(requeues > 0 ? { requeues } : {}),
        ...(error !== null ? { error } : {}),
        ...run,
      }
    }
    if (run.progress !== undefined || task.updatedAt !== previous.updatedAt) {
      return { type: 'task:progress', at: task.updatedAt, taskId: task.id, progress: task.progress }
    }
    return null
  }

  private agent(at: number, agent: Agent): UnsequencedEvent | null {
    const previous = this.agents.get(agent.id)
    this.agents.set(agent.id, agent)
    if (!previous) return { type: 'agent:added', at, agent }
    const change: AgentChange = { agentId: agent.id }
    let changed = false
    for (const field of AGENT_CHANGE_FIELDS) {
      if (same(previous[field], agent[field])) continue
      Object.assign(change, { [field]: agent[field] })
      changed = true
    }
    const resources = changedFigures(previous.resources, agent.resources)
    if (resources === 'gone') return { type: 'agent:added', at, agent }
    if (resources) {
      change.resources = resources
      changed = true
    }
    return changed ? { type: 'agent:status', at, ...change } : null
  }
}

/** The figures that changed; 'gone' when one (or all) went away, which a merge cannot say. */
function changedFigures(before: AgentResources | null, after: AgentResources | null): AgentResources | 'gone' | null {
  if (after === null) return before === null ? null : 'gone'
  const changed: AgentResources = {}
  let any = false
  // A figure set to undefined is absent, as JSON will say.
  for (const [key, value] of Object.entries(before ?? {}) as [keyof AgentResources, number | undefined][]) {
    if (value !== undefined && after[key] === undefined) return 'gone'
  }
  for (const [key, value] of Object.entries(after) as [keyof AgentResources, number | undefined][]) {
    if (value === undefined || before?.[key] === value) continue
    changed[key] = value
    any = true
  }
  return any ? changed : null
}

/** Equal as JSON would say, one level deep: the arrays and small objects of agents and tasks. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => item === b[i])
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = Object.keys(a)
    if (keys.length !== Object.keys(b).length) return false
    return keys.every((key) => (a as Record<string, unknown>)[key] === (b as Record<string, unknown>)[key])
  }
  return false
}
