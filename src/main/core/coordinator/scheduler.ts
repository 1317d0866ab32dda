/**
 * Matches queued tasks to agents with free capacity, highest priority first,
 * each to an agent whose kinds and capabilities allow it. A change asks for a
 * pass with `schedule()`; the pass runs once in a microtask however many
 * changes asked, so a burst of submissions costs one pass. A task whose
 * kind a limit holds (paused, at its `maxRunning`, over its rate) is parked
 * until the kind has room (kind-limits.ts); every pass first returns as many
 * parked tasks of each kind as it has room for.
 */
import type { Task } from '../../../shared/domain'
import type { RoutingPolicy } from '../../../shared/routing'
import type { AgentEntry, AgentRoster } from './agent-roster'
import { canRun } from './capabilities'
import type { KindLimiter } from './kind-limits'
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
    private readonly limits: KindLimiter,
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

  /** Assigns queued tasks to agents with free capacity, highest priority first, within their kinds' limits. */
  dispatch(): void {
    this.pending = false
    if (this.stopped) return
    this.limits.beginPass()
    try {
      this.assign()
      // A kind its rate holds with tasks still parked: a pass when the window allows again.
      for (const kind of this.queue.parkedKinds()) this.wakeFor(kind)
    } finally {
      this.limits.endPass()
    }
  }

  /** Parked tasks back to the line, as many of each kind as it has room for. */
  private unpark(): void {
    for (const kind of this.queue.parkedKinds()) {
      const room = this.limits.room(kind)
      if (room > 0) this.queue.unpark(kind, room)
    }
  }

  private assign(): void {
    const free = this.roster.list().filter((entry) => this.roster.capacity(entry) > 0)
    if (free.length === 0) return
    // Only when an agent is free: parked tasks stay parked while nobody could take them.
    this.unpark()
    if (this.queue.ready === 0) return
    const skipped: QueuedTask[] = []
    while (free.length > 0) {
      const next = this.queue.pop()
      if (!next) break
      const task = this.book.get(next.id)!
      if (this.limits.hold(task.kind)) {
        this.queue.park(next, task.kind)
        continue
      }
      const index = free.findIndex((entry) => canRun(entry, task, this.policy))
      if (index < 0) {
        skipped.push(next)
        // Bound the scan so a queue of unplaceable tasks cannot stall the loop.
        if (skipped.length >= 1000) break
        continue
      }
      const entry = free[index]!
      this.start(task, entry)
      this.limits.dispatched(task.kind)
      if (this.roster.capacity(entry) === 0) free.splice(index, 1)
    }
    for (const queued of skipped) this.queue.putBack(queued)
  }

  /** A kind held by its rate gets a pass when the window allows again; the other holds end with an event. */
  private wakeFor(kind: string): void {
    const hold = this.limits.hold(kind)
    if (hold?.limit === 'maxPerMinute') this.limits.wakeAt(hold.untilMs)
  }
}
