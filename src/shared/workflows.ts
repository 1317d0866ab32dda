/**
 * Workflows without zod: their bounds, the shapes the server answers with,
 * and the graph rule (keys unique, every `dependsOn` names a key of the same
 * submission, no cycle). The server's schema (`commands.ts`) refuses a graph
 * with `checkWorkflowGraph`; the renderer reads the types and the bounds.
 */
import type { TaskStatus } from './statuses'

export const WORKFLOW_LIMITS = {
  /** Tasks in one workflow. */
  tasks: 1000,
  /** Characters in a workflow's name. */
  nameLength: 200,
  /** Characters in a task's key. */
  keyLength: 64,
  /** The largest `POST /api/workflows` body, bytes (other routes keep the message limit). */
  bodyBytes: 1024 * 1024,
  /** Workflows `GET /api/workflows` lists at most, newest first (`limit`, default 100). */
  listMax: 1000,
  listDefault: 100,
} as const

/** A task's key in a workflow: letters, digits and `_ . : -`. */
export const WORKFLOW_KEY_PATTERN = /^[A-Za-z0-9_.:-]+$/

/** Where a workflow stands: `active` while any task has not ended; then how it ended. */
export type WorkflowState = 'active' | 'succeeded' | 'failed' | 'cancelled'

export interface WorkflowProgress {
  total: number
  /** Tasks per status; tasks no longer in the server's memory are not counted (`missing`). */
  byStatus: Partial<Record<TaskStatus, number>>
  /** Tasks of the workflow the server no longer holds (finished long ago). */
  missing: number
  /** Tasks that ended (any terminal status), over `total`: 0 to 1. */
  done: number
}

export interface WorkflowSummary {
  id: string
  name: string
  createdAt: number
  state: WorkflowState
  progress: WorkflowProgress
}

export interface WorkflowTaskNode {
  key: string
  id: string
  name: string
  kind: string
  status: TaskStatus | null
  /** Keys of the tasks it depends on, in this workflow. */
  dependsOn: string[]
  error: string | null
}

/** `GET /api/workflows/:id`: the summary and every task, in the order they were submitted. */
export interface WorkflowDetail extends WorkflowSummary {
  tasks: WorkflowTaskNode[]
}

/** `POST /api/workflows`'s answer: the new workflow and the id each key got. */
export interface WorkflowSubmitted {
  id: string
  tasks: { key: string; id: string }[]
}

/** `workflow:cancel`, `workflow:retry-failed`: the workflow after the action and how many tasks it changed. */
export interface WorkflowActed {
  workflow: WorkflowSummary
  changed: number
}

export interface GraphProblem {
  /** Where it is, as a zod path: `['tasks', 3, 'dependsOn', 0]`. */
  path: (string | number)[]
  message: string
}

/**
 * Checks a workflow's graph: the first duplicate key, every unknown key and
 * self-dependency, and a cycle (named by its keys). When it finds none, it
 * gives the tasks' indexes in an order where each comes after those it
 * depends on (the submission order among equals).
 */
export function checkWorkflowGraph(
  tasks: readonly { key: string; dependsOn: readonly string[] }[],
): { ok: true; order: number[] } | { ok: false; problems: GraphProblem[] } {
  const problems: GraphProblem[] = []
  const index = new Map<string, number>()
  tasks.forEach((task, i) => {
    if (index.has(task.key)) {
      problems.push({
        path: ['tasks', i, 'key'],
        message: `duplicate key "${task.key}" (also tasks.${index.get(task.key)})`,
      })
    } else index.set(task.key, i)
  })
  tasks.forEach((task, i) => {
    const seen = new Set<string>()
    task.dependsOn.forEach((key, j) => {
      const path = ['tasks', i, 'dependsOn', j]
      if (key === task.key) problems.push({ path, message: `task "${key}" depends on itself` })
      else if (!index.has(key)) problems.push({ path, message: `unknown key "${key}"` })
      else if (seen.has(key)) problems.push({ path, message: `"${key}" is listed twice` })
      seen.add(key)
    })
  })
  if (problems.length > 0) return { ok: false, problems }

  // Kahn's algorithm: what is left when no task is free any more lies on a cycle or behind one.
  const waiting = tasks.map((task) => new Set(task.dependsOn).size)
  const dependents: number[][] = tasks.map(() => [])
  tasks.forEach((task, i) => new Set(task.dependsOn).forEach((key) => dependents[index.get(key)!]!.push(i)))
  const order: number[] = []
  const free = tasks.flatMap((_task, i) => (waiting[i] === 0 ? [i] : []))
  for (let next = 0; next < free.length; next++) {
    const i = free[next]!
    order.push(i)
    for (const d of dependents[i]!) if (--waiting[d]! === 0) free.push(d)
  }
  if (order.length === tasks.length) return { ok: true, order }
  const cycle = findCycle(tasks, index, waiting)
  return {
    ok: false,
    problems: [
      { path: ['tasks', cycle[0]!, 'dependsOn'], message: `cycle: ${cycle.map((i) => tasks[i]!.key).join(' -> ')}` },
    ],
  }
}

/** A cycle among the tasks Kahn's algorithm could not free, as indexes, its first task repeated at the end. */
function findCycle(
  tasks: readonly { key: string; dependsOn: readonly string[] }[],
  index: ReadonlyMap<string, number>,
  waiting: readonly number[],
): number[] {
  // Every stuck task has a stuck dependency, so walking stuck dependencies must come back to a task already seen.
  let at = waiting.findIndex((count) => count > 0)
  const path: number[] = []
  const onPath = new Map<number, number>()
  while (!onPath.has(at)) {
    onPath.set(at, path.length)
    path.push(at)
    const stuck = tasks[at]!.dependsOn.map((key) => index.get(key)!).find((i) => waiting[i]! > 0)
    at = stuck!
  }
  // Dependencies point backwards in time, so the cycle reads best reversed: first the task that must run first.
  return [...path.slice(onPath.get(at)!), at].reverse()
}
