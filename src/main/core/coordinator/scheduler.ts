/**
 * Matches queued tasks to agents with free capacity, highest priority first,
 * each to an agent whose kinds and capabilities allow it. A change asks for a
 * pass with `schedule()`; the pass runs once in a microtask however many
 * changes asked, so a burst of submissions costs one pass.
 */
import type { Task } from '../../../shared/domain'
import type { RoutingPolicy } from '../../../shared/routing'
import type { AgentEntry, AgentRoster } from './agent-roster'
import { canRun } from './capabilities'
import type { TaskBook } from './task-book'
import type { QueuedTask, TaskQueue } from './task-queue'

export class Scheduler {
  private pending = false
  private stopped = false

  constructor(
    private readonly roster: AgentRoster,
    private readonly queue: TaskQueue,
    private readonly book: TaskBook,
    /** Hands a task to an agent: the attempt starts. */
    private readonly start: (task: Task, entry: AgentEntry) => void,
    private readonly policy: RoutingPolicy,
  ) {}

  schedule(): void {
    if (this.pending || this.stopped) return
    this.pending = true
    queueMicrotask(() => this.dispatch())
  }

  /** No more passes, asked for or pending. */
  stop(): void {
    this.stopped = true
  }

  /** Assigns queued tasks to agents with free capacity, highest priority first. */
  dispatch(): void {
    this.pending = false
    if (this.stopped) return
    const free = this.roster.list().filter((entry) => this.roster.capacity(entry) > 0)
    if (free.length === 0 || this.queue.size === 0) return
    const skipped: QueuedTask[] = []
    while (free.length > 0) {
      const next = this.queue.pop()
      if (!next) break
      const task = this.book.get(next.id)!
      const index = free.findIndex((entry) => canRun(entry, task, this.policy))
      if (index < 0) {
        skipped.push(next)
        // Bound the scan so a queue of unplaceable tasks cannot stall the loop.
        if (skipped.length >= 1000) break
        continue
      }
      const entry = free[index]!
      this.start(task, entry)
      if (this.roster.capacity(entry) === 0) free.splice(index, 1)
    }
    for (const queued of skipped) this.queue.putBack(queued)
  }
}
