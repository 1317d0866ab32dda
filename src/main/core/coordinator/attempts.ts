/**
 * A task's attempts on agents, from assignment to their end: the agent's
 * reports (started, progress, succeeded, failed, log lines), the timeout,
 * retries after an exponential backoff, requeueing when the agent goes, and
 * the operator's cancel. Reports about a task the agent no longer holds
 * (it timed out, was cancelled or requeued meanwhile) are stale and ignored.
 */
import type { Agent, Task } from '../../../shared/domain'
import { countedAttempts, mayRetry } from '../../../shared/attempts'
import { isCancellable, isTerminal } from '../../../shared/statuses'
import type { LogLevel, SwarmChange } from '../../../shared/events'
import type { AgentEntry, AgentRoster } from './agent-roster'
import { CoordinatorError } from './errors'
import type { TaskBook } from './task-book'
import type { TaskQueue } from './task-queue'

export interface AttemptsOptions {
  roster: AgentRoster
  book: TaskBook
  queue: TaskQueue
  emit(event: SwarmChange): void
  now(): number
  /** Asks for a scheduling pass: an agent or a queued task may be free now. */
  schedule(): void
  /** First retry delay; doubles per attempt up to `retryMaxMs`. */
  retryBaseMs: number
  retryMaxMs: number
  /** Told when an agent's driver throws; the task it concerned is already dealt with. */
  driverFailed?(error: unknown, context: { agentId: string; taskId: string; call: 'assign' | 'cancel' }): void
}

export class Attempts {
  /** A task's pending timer: its attempt's timeout, or the backoff before its retry. */
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly roster: AgentRoster
  private readonly book: TaskBook

  constructor(private readonly options: AttemptsOptions) {
    this.roster = options.roster
    this.book = options.book
  }

  /** Gives a queued task to an agent: a new attempt, timed if the task has a timeout. */
  start(task: Task, entry: AgentEntry): void {
    task.status = 'assigned'
    task.agentId = entry.agent.id
    task.attempts++
    task.progress = 0
    // What ended the last attempt is in its transition; this one starts clean.
    task.error = null
    task.updatedAt = this.options.now()
    this.roster.hold(entry, task.id)
    this.book.publish(task)
    this.timeAttempt(task)
    try {
      entry.driver.assign({ ...task })
    } catch (error) {
      // A driver that throws (spawn refusing an argument, say) must not take the server down with it, nor leave
      // the task to be dispatched again and again: it ends here, failed, saying why.
      this.options.driverFailed?.(error, { agentId: entry.agent.id, taskId: task.id, call: 'assign' })
      this.roster.release(entry, task.id)
      this.clearTimer(task.id)
      this.finish(task, 'failed', { error: `agent ${entry.agent.name} could not start this task: ${describe(error)}` })
    }
  }

  /**
   * Gives a task back to the agent that ran it before the server restarted (reclaims.ts): the same attempt, not
   * a new one, and not a requeue after all; its timeout counts again from now.
   */
  resume(task: Task, entry: AgentEntry, status: 'assigned' | 'running'): void {
    task.status = status
    task.agentId = entry.agent.id
    task.error = null
    task.requeues = Math.max(0, task.requeues - 1)
    task.updatedAt = this.options.now()
    this.roster.hold(entry, task.id)
    this.book.publish(task)
    this.timeAttempt(task)
  }

  cancel(taskId: string, reason = 'cancelled by operator'): Task {
    const task = this.book.require(taskId)
    if (!isCancellable(task.status)) {
      throw new CoordinatorError('conflict', `task ${taskId} is already ${task.status}`)
    }
    this.options.queue.remove(taskId)
    this.clearTimer(taskId)
    const entry = task.agentId ? this.roster.get(task.agentId) : undefined
    if (entry) {
      this.roster.release(entry, taskId)
      this.cancelOn(entry, taskId)
    }
    this.finish(task, 'cancelled', { error: reason })
    return task
  }

  /** Takes back every task an agent holds (but those it `keeps`) and queues it again; `reason` goes on the task. */
  requeueHeldBy(entry: AgentEntry, reason: string, keeps: readonly string[] = []): void {
    for (const taskId of [...entry.agent.currentTaskIds]) {
      if (keeps.includes(taskId)) continue
      const task = this.book.get(taskId)
      this.roster.release(entry, taskId)
      this.clearTimer(taskId)
      if (!task || isTerminal(task.status)) continue
      Object.assign(task, { status: 'queued', agentId: null, progress: 0, error: `requeued: ${reason}` })
      // The agent went, not the task: this run does not count against its retries.
      task.requeues++
      task.updatedAt = this.options.now()
      this.book.admit(task)
    }
    this.options.schedule()
  }

  /** Stops every timer: no timeout fires and no retry comes back. */
  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  // ---- reports from agents ------------------------------------------------

  reportStarted(agentId: string, taskId: string): void {
    const task = this.heldTask(agentId, taskId)
    if (!task || task.status !== 'assigned') return
    task.status = 'running'
    task.startedAt = this.options.now()
    task.updatedAt = task.startedAt
    this.book.publish(task)
  }

  reportProgress(agentId: string, taskId: string, progress: number, message?: string): void {
    const task = this.heldTask(agentId, taskId)
    if (!task) return
    if (task.status === 'assigned') this.reportStarted(agentId, taskId)
    task.progress = Math.min(1, Math.max(0, progress))
    task.updatedAt = this.options.now()
    this.book.publish(task)
    if (message) this.reportLog(agentId, taskId, 'info', message)
  }

  reportSucceeded(agentId: string, taskId: string, result?: unknown): void {
    const task = this.endReported(agentId, taskId, 'done')
    // An earlier attempt's error (a requeue, a failure that was retried) is history now: the transitions keep it.
    if (task) this.finish(task, 'succeeded', { result: result ?? null, progress: 1, error: null })
  }

  reportFailed(agentId: string, taskId: string, error: string): void {
    const task = this.endReported(agentId, taskId, 'failed')
    if (task) this.failOrRetry(task, 'failed', error)
  }

  reportLog(agentId: string | null, taskId: string | null, level: LogLevel, message: string): void {
    if (taskId !== null && !this.book.has(taskId)) return
    this.options.emit({ type: 'task:log', at: this.options.now(), taskId: taskId ?? '', agentId, level, message })
  }

  // ---- internals ----------------------------------------------------------

  private timeOut(taskId: string, attempt: number): void {
    this.timers.delete(taskId)
    const task = this.book.get(taskId)
    if (!task || task.attempts !== attempt || isTerminal(task.status) || task.status === 'queued') return
    const entry = task.agentId ? this.roster.get(task.agentId) : undefined
    if (entry) {
      // An attempt that ran out of time on this agent ended badly there, like a reported failure.
      entry.agent.counters.failed++
      this.roster.release(entry, taskId)
      this.cancelOn(entry, taskId)
    }
    this.failOrRetry(task, 'timed_out', `timed out after ${task.timeoutMs} ms`)
  }

  private failOrRetry(task: Task, status: 'failed' | 'timed_out', error: string): void {
    if (mayRetry(task)) {
      const delay = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (countedAttempts(task) - 1))
      Object.assign(task, { status: 'queued', agentId: null, progress: 0, error: `attempt ${task.attempts}: ${error}` })
      task.updatedAt = this.options.now()
      this.book.publish(task)
      this.timers.set(
        task.id,
        setTimeout(() => {
          this.timers.delete(task.id)
          if (task.status !== 'queued') return
          this.options.queue.enqueue(task)
          this.options.schedule()
        }, delay),
      )
      return
    }
    this.finish(task, status, { error })
  }

  private finish(task: Task, status: Task['status'], fields: Partial<Task>): void {
    this.book.finish(task, status, fields)
    this.options.schedule()
  }

  /** Ends the attempt an agent reported the end of, counted on the agent; undefined when the report is stale. */
  private endReported(agentId: string, taskId: string, outcome: keyof Agent['counters']): Task | undefined {
    const task = this.heldTask(agentId, taskId)
    if (!task) return undefined
    const entry = this.roster.get(agentId)!
    entry.agent.counters[outcome]++
    this.roster.release(entry, taskId)
    this.clearTimer(taskId)
    return task
  }

  private heldTask(agentId: string, taskId: string): Task | undefined {
    const task = this.book.get(taskId)
    if (!task || task.agentId !== agentId || isTerminal(task.status) || task.status === 'queued') return undefined
    return task
  }

  /** Tells the agent to drop a task; a driver that throws is reported, and the task is released all the same. */
  private cancelOn(entry: AgentEntry, taskId: string): void {
    try {
      entry.driver.cancel(taskId)
    } catch (error) {
      this.options.driverFailed?.(error, { agentId: entry.agent.id, taskId, call: 'cancel' })
    }
  }

  /** Times the task's current attempt, when it has a timeout. */
  private timeAttempt(task: Task): void {
    if (task.timeoutMs === null) return
    const attempt = task.attempts
    this.timers.set(
      task.id,
      setTimeout(() => this.timeOut(task.id, attempt), task.timeoutMs),
    )
  }

  private clearTimer(taskId: string): void {
    const timer = this.timers.get(taskId)
    if (timer) clearTimeout(timer)
    this.timers.delete(taskId)
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0]!.replaceAll('\0', '\\0').slice(0, 500)
}
