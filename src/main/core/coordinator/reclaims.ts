/**
 * Work that survives the server: tasks that were on an agent when the server
 * stopped (a restart; in a cluster, a failover to a new leader rebuilt from
 * the history) wait a while for that agent to come back. An agent that
 * registers saying it still runs them (`agent:register`'s `running`) gets
 * them back as they were — the same attempt, not a new one — so a task its
 * agent finished while the server was away counts once. What is not claimed
 * within the grace (the agent's heartbeat timeout, 15 s by default) is queued
 * for any agent, as before.
 */
import type { Task } from '../../../shared/domain'
import type { BookWatcher, TaskBook } from './task-book'

interface Waiting {
  agentId: string
  status: 'assigned' | 'running'
}

export class Reclaims implements BookWatcher {
  private readonly waiting = new Map<string, Waiting>()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly book: TaskBook,
    private readonly schedule: () => void,
  ) {}

  get size(): number {
    return this.waiting.size
  }

  /** A restored task that was on `agentId`: held out of the queue until that agent claims it or the grace ends. */
  expect(task: Task, agentId: string, status: Waiting['status']): void {
    this.waiting.set(task.id, { agentId, status })
  }

  /** Waits `graceMs` from now, then queues every task still unclaimed. */
  start(graceMs: number): void {
    if (this.waiting.size === 0) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => this.release(), graceMs)
    this.timer.unref()
  }

  /** The book asks before queueing a task: one that waits for its agent stays out of the line. */
  holds(task: Task): boolean {
    return this.waiting.has(task.id)
  }

  /** The book forgets a task (cancelled meanwhile, say): nothing waits for it any more. */
  finished(task: Task): void {
    this.waiting.delete(task.id)
  }

  /**
   * The tasks among `taskIds` that wait for `agentId`, each with the state it had on the agent; they wait no more.
   * Ids it does not hold, or that wait for another agent, are left as they are.
   */
  claim(agentId: string, taskIds: readonly string[]): { task: Task; status: Waiting['status'] }[] {
    const claimed: { task: Task; status: Waiting['status'] }[] = []
    for (const id of taskIds) {
      const waiting = this.waiting.get(id)
      const task = this.book.get(id)
      if (!waiting || waiting.agentId !== agentId || task?.status !== 'queued') continue
      this.waiting.delete(id)
      claimed.push({ task, status: waiting.status })
    }
    return claimed
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private release(): void {
    this.timer = null
    const left = [...this.waiting.keys()]
    this.waiting.clear()
    for (const id of left) {
      const task = this.book.get(id)
      if (task?.status !== 'queued') continue
      task.error = `requeued: its agent did not come back to it after the server restarted`
      this.book.admit(task)
    }
    this.schedule()
  }
}
