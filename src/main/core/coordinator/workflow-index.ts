/**
 * The workflows the tasks in memory belong to. A workflow is not stored apart:
 * each of its tasks carries `workflow: { id, name, key }` in its stored JSON,
 * so it comes back with its tasks after a restart, on either database, and is
 * listed while any of its tasks is in memory (every unfinished task and the
 * latest finished ones).
 */
import type { Task } from '../../../shared/domain'
import { isTerminal, type TaskStatus } from '../../../shared/statuses'
import type {
  WorkflowDetail,
  WorkflowProgress,
  WorkflowState,
  WorkflowSummary,
  WorkflowTaskNode,
} from '../../../shared/workflows'
import type { BookWatcher, TaskBook } from './task-book'

interface Entry {
  id: string
  name: string
  createdAt: number
  /** Its tasks' ids, in the order they became known. */
  taskIds: Set<string>
  /** Every task it had: tasks that left memory still count in its total. */
  total: number
}

export class WorkflowIndex implements BookWatcher {
  private readonly workflows = new Map<string, Entry>()

  constructor(private readonly book: TaskBook) {}

  known(task: Task): void {
    const workflow = task.workflow
    if (!workflow) return
    let entry = this.workflows.get(workflow.id)
    if (!entry) {
      entry = { id: workflow.id, name: workflow.name, createdAt: task.createdAt, taskIds: new Set(), total: 0 }
      this.workflows.set(workflow.id, entry)
    }
    if (entry.taskIds.has(task.id)) return
    entry.taskIds.add(task.id)
    entry.total++
    entry.createdAt = Math.min(entry.createdAt, task.createdAt)
  }

  forgotten(task: Task): void {
    const entry = task.workflow && this.workflows.get(task.workflow.id)
    if (!entry) return
    entry.taskIds.delete(task.id)
    if (entry.taskIds.size === 0) this.workflows.delete(entry.id)
  }

  has(workflowId: string): boolean {
    return this.workflows.has(workflowId)
  }

  /** Newest first, at most `limit`, with how many there are. */
  list(limit: number): { workflows: WorkflowSummary[]; total: number } {
    const entries = [...this.workflows.values()].sort((a, b) => b.createdAt - a.createdAt || (b.id > a.id ? 1 : -1))
    return { workflows: entries.slice(0, limit).map((entry) => this.summary(entry)), total: entries.length }
  }

  detail(workflowId: string): WorkflowDetail | undefined {
    const entry = this.workflows.get(workflowId)
    if (!entry) return undefined
    const tasks = this.tasksOf(entry)
    const keyOf = new Map(tasks.map((task) => [task.id, task.workflow!.key]))
    const nodes: WorkflowTaskNode[] = tasks.map((task) => ({
      key: task.workflow!.key,
      id: task.id,
      name: task.name,
      kind: task.kind,
      status: task.status,
      dependsOn: (task.dependsOn ?? []).map((id) => keyOf.get(id) ?? id),
      error: task.error,
    }))
    return { ...this.summary(entry), tasks: nodes }
  }

  /**
   * Its tasks in memory (live objects, for the coordinator's actions), each after the tasks it depends on: the
   * order they were submitted in, and after a restart too, when they come back in another order.
   */
  tasksOf(entry: Entry | string): Task[] {
    const found = typeof entry === 'string' ? this.workflows.get(entry) : entry
    if (!found) return []
    const tasks = new Map<string, Task>()
    for (const id of found.taskIds) {
      const task = this.book.get(id)
      if (task) tasks.set(id, task)
    }
    const ordered: Task[] = []
    const placed = new Set<string>()
    // Depth-first over dependencies, iteratively (a chain of 1,000 tasks). The graph was checked acyclic at submit;
    // `open` keeps a damaged one from looping all the same.
    const open = new Set<string>()
    for (const root of tasks.values()) {
      const stack: [Task, number][] = [[root, 0]]
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!
        const [task, next] = top
        if (placed.has(task.id)) {
          stack.pop()
          continue
        }
        open.add(task.id)
        const dependency = (task.dependsOn ?? [])
          .slice(next)
          .find((id) => tasks.has(id) && !placed.has(id) && !open.has(id))
        if (dependency === undefined) {
          placed.add(task.id)
          open.delete(task.id)
          ordered.push(task)
          stack.pop()
        } else {
          top[1] = task.dependsOn!.indexOf(dependency) + 1
          stack.push([tasks.get(dependency)!, 0])
        }
      }
    }
    return ordered
  }

  summary(entry: Entry | string): WorkflowSummary {
    const found = typeof entry === 'string' ? this.workflows.get(entry)! : entry
    // Counting needs no order: the tasks as they are held, without the sort `tasksOf` does.
    const tasks: Task[] = []
    for (const id of found.taskIds) {
      const task = this.book.get(id)
      if (task) tasks.push(task)
    }
    const byStatus: Partial<Record<TaskStatus, number>> = {}
    let ended = 0
    for (const task of tasks) {
      byStatus[task.status] = (byStatus[task.status] ?? 0) + 1
      if (isTerminal(task.status)) ended++
    }
    const missing = found.total - tasks.length
    const progress: WorkflowProgress = {
      total: found.total,
      byStatus,
      missing,
      // Tasks that left memory had finished: the bound only lets finished ones go.
      done: found.total === 0 ? 1 : (ended + missing) / found.total,
    }
    return {
      id: found.id,
      name: found.name,
      createdAt: found.createdAt,
      state: stateOf(byStatus, tasks.length, ended),
      progress,
    }
  }
}

function stateOf(byStatus: Partial<Record<TaskStatus, number>>, held: number, ended: number): WorkflowState {
  if (ended < held) return 'active'
  if ((byStatus.failed ?? 0) + (byStatus.timed_out ?? 0) > 0) return 'failed'
  if ((byStatus.cancelled ?? 0) > 0) return 'cancelled'
  return 'succeeded'
}
