/**
 * What an operator does to a workflow as a whole: submit it, cancel it, retry
 * what did not succeed. Each is a sequence of the coordinator's own task
 * operations, in dependency order, so their events and rules are those of
 * single tasks.
 */
import type { WorkflowSubmit } from '../../../shared/commands'
import type { Task } from '../../../shared/domain'
import { isRetryable, isTerminal } from '../../../shared/statuses'
import type { WorkflowActed, WorkflowSubmitted } from '../../../shared/workflows'
import { CoordinatorError } from './errors'
import type { TaskBook } from './task-book'
import type { WorkflowIndex } from './workflow-index'

export interface WorkflowParts {
  book: TaskBook
  index: WorkflowIndex
  now(): number
  cancel(taskId: string, reason: string): void
  retry(taskId: string): void
}

/** The ids a workflow is to get instead of new ones (a swarm file's, stable across restarts): its own, each key's. */
export interface WorkflowIds {
  workflowId: string
  taskIds: ReadonlyMap<string, string>
}

/**
 * Queues a checked graph (`WorkflowSubmitSchema`: keys unique, known, no cycle) as one workflow: every task is made
 * here, each after those it depends on, so nothing can be refused half-way (given ids are checked first).
 */
export function submitWorkflow(
  { book, index, now }: WorkflowParts,
  request: WorkflowSubmit,
  given?: WorkflowIds,
): WorkflowSubmitted {
  const id = given?.workflowId ?? `w-${now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  if (given) {
    const unnamed = request.tasks.find(({ key }) => !given.taskIds.has(key))
    if (unnamed) throw new Error(`workflow ${id}: no id given for task ${unnamed.key}`)
    const taken = index.has(id) ? id : [...given.taskIds.values()].find((taskId) => book.has(taskId))
    if (taken !== undefined) throw new CoordinatorError('conflict', `workflow ${id}: ${taken} exists already`)
  }
  const ids = new Map<string, string>()
  for (const at of request.order) {
    const { key, dependsOn, ...fields } = request.tasks[at]!
    const request_ = { ...fields, dependsOn: dependsOn.map((dependency) => ids.get(dependency)!) }
    const task = book.create(request_, false, given?.taskIds.get(key), { id, name: request.name, key })
    ids.set(key, task.id)
  }
  return { id, tasks: request.tasks.map(({ key }) => ({ key, id: ids.get(key)! })) }
}

/** Cancels every task of a workflow that has not ended; `changed` counts those its dependencies' cancels took too. */
export function cancelWorkflow(parts: WorkflowParts, workflowId: string, reason: string): WorkflowActed {
  const tasks = tasksOf(parts, workflowId)
  const active = tasks.filter((task) => !isTerminal(task.status))
  for (const task of active) if (!isTerminal(task.status)) parts.cancel(task.id, reason)
  return { workflow: parts.index.summary(workflowId), changed: active.length }
}

/**
 * Retries every task of a workflow that failed, timed out or was cancelled, dependencies first; `changed` counts
 * every task queued again, those a retried dependency brought back with it included.
 */
export function retryWorkflow(parts: WorkflowParts, workflowId: string): WorkflowActed {
  const tasks = tasksOf(parts, workflowId)
  const ended = tasks.filter((task) => isRetryable(task.status))
  // A retried dependency queues again what its end had cancelled: those are not retryable any more when reached.
  for (const task of ended) if (isRetryable(task.status)) parts.retry(task.id)
  return { workflow: parts.index.summary(workflowId), changed: ended.filter((task) => !isTerminal(task.status)).length }
}

function tasksOf({ index }: WorkflowParts, workflowId: string): Task[] {
  if (!index.has(workflowId)) throw new CoordinatorError('not_found', `no workflow ${workflowId}`)
  return index.tasksOf(workflowId)
}
