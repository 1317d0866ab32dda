/**
 * Tasks that wait for others (`dependsOn`). A waiting task is `queued` but out
 * of the dispatch line until every dependency succeeded; when one ends for
 * good without succeeding (failed, cancelled, timed out with no retry left),
 * the tasks waiting for it are cancelled naming it, and so on down the graph;
 * retrying that dependency later queues them again, waiting as before.
 *
 * A dependency no longer in memory (finished long ago, beyond the bound on
 * finished tasks) counts as met: a waiting task only ever waits for tasks
 * that have not ended, and those are always in memory. Cascades run as a
 * work list, not by recursion, so a chain of 10,000 tasks cannot overflow
 * the stack.
 */
import type { Task } from '../../../shared/domain'
import type { TaskRefSummary } from '../../../shared/domain'
import { isTerminal } from '../../../shared/statuses'
import { CoordinatorError } from './errors'
import type { BookWatcher, TaskBook } from './task-book'
import type { TaskQueue } from './task-queue'

/** How a dependency ended, as its dependents' error says it: "dependency build #12 failed". */
function ended(task: Task): string {
  const how = task.status === 'cancelled' ? 'was cancelled' : task.status === 'timed_out' ? 'timed out' : 'failed'
  return `dependency ${task.name} ${how}`
}

/** Ended for good without succeeding: what cancels the tasks that wait for it. */
function failedForGood(task: Task): boolean {
  return isTerminal(task.status) && task.status !== 'succeeded'
}

export class Dependencies implements BookWatcher {
  /** For each task others in memory depend on: those others. */
  private readonly dependents = new Map<string, Set<string>>()
  /** Each waiting task: the dependencies it still waits for. */
  private readonly waiting = new Map<string, Set<string>>()
  /** Ended tasks whose dependents are still to be told, oldest first. */
  private readonly work: Task[] = []
  /** Tasks that left memory during a cascade: forgotten once it is over. */
  private readonly leaving: string[] = []
  private draining = false

  constructor(
    private readonly book: TaskBook,
    private readonly queue: TaskQueue,
    /** Asks for a dispatch pass: a task was released. */
    private readonly schedule: () => void,
  ) {}

  /**
   * Refuses a submission's dependencies before anything is made: an id the server does not hold is the client's
   * mistake (`bad_request`); one that already failed for good would cancel the new task at once (`conflict`).
   */
  check(dependsOn: readonly string[] | undefined): void {
    for (const [i, id] of (dependsOn ?? []).entries()) {
      const dependency = this.book.get(id)
      if (!dependency) {
        throw new CoordinatorError('bad_request', `dependsOn.${i}: no task ${id} (or it finished long ago)`)
      }
      if (failedForGood(dependency)) {
        throw new CoordinatorError(
          'conflict',
          `dependsOn.${i}: task ${id} (${dependency.name}) is ${dependency.status}; retry it first`,
        )
      }
    }
  }

  /** The dependency that keeps a task from being retried (it failed for good), if any. */
  blocker(task: Task): Task | undefined {
    for (const id of task.dependsOn ?? []) {
      const dependency = this.book.get(id)
      if (dependency && failedForGood(dependency)) return dependency
    }
    return undefined
  }

  /** What a task still waits for, in the order it named them; empty when it waits for nothing. */
  waitingFor(taskId: string): TaskRefSummary[] {
    const pending = this.waiting.get(taskId)
    if (!pending) return []
    return [...pending].map((id) => {
      const dependency = this.book.get(id)
      return { id, name: dependency?.name ?? id, status: dependency?.status ?? 'succeeded' }
    })
  }

  /** Tasks waiting for a dependency now. */
  get waitingCount(): number {
    return this.waiting.size
  }

  known(task: Task): void {
    for (const id of task.dependsOn ?? []) {
      let dependents = this.dependents.get(id)
      if (!dependents) this.dependents.set(id, (dependents = new Set()))
      dependents.add(task.id)
    }
  }

  holds(task: Task): boolean {
    const pending = new Set<string>()
    for (const id of task.dependsOn ?? []) {
      const dependency = this.book.get(id)
      if (dependency && dependency.status !== 'succeeded') pending.add(id)
    }
    if (pending.size === 0) {
      this.waiting.delete(task.id)
      return false
    }
    this.waiting.set(task.id, pending)
    return true
  }

  finished(task: Task): void {
    this.work.push(task)
    if (this.draining) return
    this.draining = true
    try {
      for (let next = this.work.shift(); next; next = this.work.shift()) this.tell(next)
    } finally {
      this.draining = false
      for (const id of this.leaving.splice(0)) this.dependents.delete(id)
    }
  }

  forgotten(task: Task): void {
    this.waiting.delete(task.id)
    for (const id of task.dependsOn ?? []) {
      const dependents = this.dependents.get(id)
      dependents?.delete(task.id)
      if (dependents?.size === 0) this.dependents.delete(id)
    }
    // A cascade under way may still have to tell its dependents.
    if (this.draining) this.leaving.push(task.id)
    else this.dependents.delete(task.id)
  }

  /**
   * A task was retried: the tasks its end cancelled are queued again (waiting for it), and theirs after them.
   * Returns how many were.
   */
  reopened(task: Task): number {
    let reopened = 0
    const work = [task]
    for (let next = work.shift(); next; next = work.shift()) {
      for (const id of [...(this.dependents.get(next.id) ?? [])]) {
        const dependent = this.book.get(id)
        if (dependent?.status !== 'cancelled' || dependent.cancelledByDependency !== next.id) continue
        this.book.reopen(id)
        reopened++
        work.push(dependent)
      }
    }
    return reopened
  }

  /**
   * Cancels the waiting tasks whose dependency ended for good while nobody was there to tell them (the server
   * stopped between the two): called once the restored tasks are all back.
   */
  settleRestored(): void {
    for (const taskId of [...this.waiting.keys()]) {
      const task = this.book.get(taskId)
      const blocker = task && this.blocker(task)
      if (blocker) this.finished(blocker)
    }
  }

  /** Tells the tasks waiting for one that ended: released when it succeeded and it was their last, else cancelled. */
  private tell(task: Task): void {
    this.waiting.delete(task.id)
    for (const id of [...(this.dependents.get(task.id) ?? [])]) {
      const pending = this.waiting.get(id)
      const dependent = this.book.get(id)
      if (!pending?.has(task.id) || !dependent) continue
      if (task.status === 'succeeded') {
        pending.delete(task.id)
        if (pending.size > 0) continue
        this.waiting.delete(id)
        this.queue.enqueue(dependent)
        this.schedule()
      } else if (failedForGood(task)) {
        this.waiting.delete(id)
        this.book.finish(dependent, 'cancelled', { error: ended(task), cancelledByDependency: task.id })
      }
    }
  }
}
