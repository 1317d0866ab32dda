/**
 * The tasks waiting for an agent, highest priority first, then first come
 * first served. A task keeps the place it first took among equals whenever it
 * is queued again (retry, lost agent, restart), so going back to the queue
 * does not send it behind tasks that came after it.
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
  private nextOrder = 0

  get size(): number {
    return this.heap.size
  }

  enqueue(task: Task): void {
    let order = this.order.get(task.id)
    if (order === undefined) {
      order = this.nextOrder++
      this.order.set(task.id, order)
    }
    this.heap.push(task.id, task.priority, order)
  }

  remove(taskId: string): void {
    this.heap.remove(taskId)
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
