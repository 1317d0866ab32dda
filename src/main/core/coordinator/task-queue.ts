/**
 * The tasks waiting for an agent, highest priority first, then first come
 * first served. A task keeps the place it first took among equals whenever it
 * is queued again (retry, lost agent, restart), so going back to the queue
 * does not send it behind tasks that came after it.
 *
 * A task whose kind a limit holds (kind-limits.ts) is parked beside the line,
 * in its kind's own heap, so a pass does not take it out and put it back
 * again and again; `unpark` returns the first ones to the line, at their
 * places, when the kind has room again.
 */
import type { Task } from '../../../shared/domain'
import { PriorityQueue } from './priority-queue'

export interface QueuedTask {
  id: string
  priority: number
  order: number
}

export class TaskQueue {
  private readonly heap = new PriorityQueue()
  private readonly order = new Map<string, number>()
  private readonly parked = new Map<string, PriorityQueue>()
  /** Each parked task's kind. */
  private readonly parkedKind = new Map<string, string>()
  private nextOrder = 0

  /** Tasks waiting, parked ones included. */
  get size(): number {
    return this.heap.size + this.parkedKind.size
  }

  /** Tasks in the line a pass takes from (not parked). */
  get ready(): number {
    return this.heap.size
  }

  /** Whether the task is waiting here, in the line or parked (not in a retry's backoff, not for a dependency). */
  has(taskId: string): boolean {
    return this.heap.has(taskId) || this.parkedKind.has(taskId)
  }

  enqueue(task: Task): void {
    if (this.parkedKind.has(task.id)) return
    let order = this.order.get(task.id)
    if (order === undefined) {
      order = this.nextOrder++
      this.order.set(task.id, order)
    }
    this.heap.push(task.id, task.priority, order)
  }

  remove(taskId: string): void {
    this.heap.remove(taskId)
    const kind = this.parkedKind.get(taskId)
    if (kind === undefined) return
    this.parkedKind.delete(taskId)
    const parked = this.parked.get(kind)!
    parked.remove(taskId)
    if (parked.size === 0) this.parked.delete(kind)
  }

  /** Sets a task `pop` gave out aside until its kind has room (`unpark`). */
  park(queued: QueuedTask, kind: string): void {
    let parked = this.parked.get(kind)
    if (!parked) this.parked.set(kind, (parked = new PriorityQueue()))
    parked.push(queued.id, queued.priority, queued.order)
    this.parkedKind.set(queued.id, kind)
  }

  /** Kinds with parked tasks. */
  parkedKinds(): string[] {
    return [...this.parked.keys()]
  }

  /** Returns up to `count` of a kind's parked tasks, the first ones, to the line. */
  unpark(kind: string, count: number): void {
    const parked = this.parked.get(kind)
    if (!parked) return
    for (let moved = 0; moved < count; moved++) {
      const next = parked.pop()
      if (!next) break
      this.parkedKind.delete(next.id)
      this.heap.push(next.id, next.priority, next.order)
    }
    if (parked.size === 0) this.parked.delete(kind)
  }

  /** Takes the first task; null when none waits. */
  pop(): QueuedTask | null {
    return this.heap.pop()
  }

  /** Returns a task `pop` gave out that no agent could take, to the place it had. */
  putBack(queued: QueuedTask): void {
    this.heap.push(queued.id, queued.priority, queued.order)
  }

  /** Drops a task's place for good: the task has left memory. */
  forget(taskId: string): void {
    this.order.delete(taskId)
  }
}
