/**
 * A swarm file's tasks at start (docs/agents.md, "Swarm files"):
 *
 * - Each has a stable id, made from the file's path, the task as written and
 *   which copy of it it is, so a restart does not enqueue it again while the
 *   history holds the one enqueued before (in whatever state): tasks are not
 *   doubled at every start. A task changed in the file is a new task.
 * - A task no agent here runs is accepted, but said in the log at once (its
 *   details in the dashboard say why it waits), not left queued in silence.
 */
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import type { TaskSubmit } from '../../../shared/commands'
import { agentRunsTask, whyNoAgentRuns, type RoutingPolicy } from '../../../shared/routing'
import type { Coordinator } from '../coordinator/coordinator'
import type { Logger } from '../logger'

export interface SwarmTaskPlan {
  file: string
  /** Tasks to enqueue, with their stable ids. */
  enqueue: { id: string; task: TaskSubmit }[]
  /** Tasks whose previous copy the history holds: not enqueued again. */
  kept: { id: string; name: string }[]
}

/** JSON with object keys sorted: the same task gives the same text whatever order its file wrote the keys in. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** The stable id of the `copy`-th (0-based) task of the file written exactly as `task`. */
export function swarmTaskId(file: string, task: TaskSubmit, copy: number): string {
  const digest = createHash('sha256')
    .update(canonical([resolve(file), task, copy]))
    .digest('hex')
  return `s-${digest.slice(0, 24)}`
}

/** Which of the file's tasks to enqueue: those whose stable id is not among `stored` (the history's, at start). */
export function planSwarmTasks(file: string, tasks: readonly TaskSubmit[], stored: ReadonlySet<string>): SwarmTaskPlan {
  const copies = new Map<string, number>()
  const plan: SwarmTaskPlan = { file, enqueue: [], kept: [] }
  for (const task of tasks) {
    const text = canonical(task)
    const copy = copies.get(text) ?? 0
    copies.set(text, copy + 1)
    const id = swarmTaskId(file, task, copy)
    if (stored.has(id)) plan.kept.push({ id, name: task.name })
    else plan.enqueue.push({ id, task })
  }
  return plan
}

export interface EnqueueDeps {
  coordinator: Pick<Coordinator, 'submit' | 'getTask' | 'listAgents'>
  logger: Logger
  routing: RoutingPolicy
}

/** Enqueues the plan's tasks; logs the ones kept from before. */
export function enqueueSwarmTasks(plan: SwarmTaskPlan, { coordinator, logger }: EnqueueDeps): void {
  for (const { id, task } of plan.enqueue) coordinator.submit(task, { id })
  if (plan.kept.length > 0) {
    logger.info(
      { file: plan.file, kept: plan.kept.length, tasks: plan.kept.slice(0, 10).map((t) => `${t.name} (${t.id})`) },
      'swarm file tasks already in the history from an earlier start: not enqueued again',
    )
  }
}

/** Logs the file's queued tasks (`ids`) that no agent here runs: one warning per kind and capabilities. */
export function warnUnrunnable(
  file: string,
  ids: readonly string[],
  { coordinator, logger, routing }: EnqueueDeps,
): void {
  const online = coordinator.listAgents().filter((agent) => agent.status !== 'offline')
  // One line per kind and capabilities that nobody runs, however many tasks share them.
  const waiting = new Map<string, { why: string; names: string[] }>()
  for (const id of ids) {
    const task = coordinator.getTask(id)
    if (task?.status !== 'queued' || online.some((agent) => agentRunsTask(agent, task, routing))) continue
    const key = canonical([task.kind, task.capabilities])
    const entry = waiting.get(key) ?? { why: whyNoAgentRuns(online, task, routing) ?? '', names: [] }
    entry.names.push(task.name)
    waiting.set(key, entry)
  }
  for (const { why, names } of waiting.values()) {
    logger.warn(
      { file, count: names.length, tasks: names.slice(0, 10) },
      `swarm file tasks wait: ${why} They stay queued until an agent that runs them connects.`,
    )
  }
}
