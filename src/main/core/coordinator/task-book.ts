/**
 * Every task in memory: the unfinished ones and a bounded history of finished
 * ones (the oldest leave first, so a long run does not grow without bound),
 * the running totals, and the `task:status` event that announces each change.
 */
import type { Task } from '../../../shared/domain'
import { isFailure, isOnAgent, isRetryable, isTerminal } from '../../../shared/statuses'
import type { SwarmChange } from '../../../shared/events'
import type { TaskSubmit } from '../../../shared/commands'
import { countedAttempts } from '../../../shared/attempts'
import { requiredCapabilities } from './capabilities'
import { CoordinatorError } from './errors'
import type { TaskQueue } from './task-queue'
import type { TaskQuery, Totals } from './types'

/**
 * What the book tells the parts that follow tasks across their lives (dependencies, workflows). Called in order with
 * the book's own steps, so a watcher sees a task enter memory before it ends and leave after.
 */
export interface BookWatcher {
  /** The task is in memory now (new, restored, finished and restored); may be said again of a task. */
  known?(task: Task): void
  /** The task is about to be queued: true holds it out of the dispatch line (it waits for something). */
  holds?(task: Task): boolean
  /** The task ended; its event is out. */
  finished?(task: Task): void
  /** The task left memory (the bound on finished tasks). */
  forgotten?(task: Task): void
}

export interface TaskBookOptions {
  emit(event: SwarmChange): void
  now(): number
  /** Finished tasks kept in memory. */
  maxFinished: number
}

export class TaskBook {
  private readonly tasks = new Map<string, Task>()
  private readonly finishedOrder: string[] = []
  /** Tasks the server itself made as pretend work; they leave this set when they leave memory. */
  private readonly ephemeral = new Set<string>()
  private nextTaskNumber = 1
  readonly totals: Totals = { succeeded: 0, failed: 0, finished: 0 }
  readonly maxFinished: number
  private readonly watchers: BookWatcher[] = []

  constructor(
    private readonly queue: TaskQueue,
    private readonly options: TaskBookOptions,
  ) {
    this.maxFinished = options.maxFinished
  }

  watch(watcher: BookWatcher): void {
    this.watchers.push(watcher)
  }

  /**
   * A new task from a request, queued and announced; returns the live task. `id`: the caller's, else a new one;
   * `workflow`: the workflow it is part of.
   */
  create(request: TaskSubmit, ephemeral = false, id?: string, workflow?: Task['workflow']): Task {
    const now = this.options.now()
    if (id !== undefined && this.tasks.has(id)) throw new CoordinatorError('conflict', `task ${id} exists already`)
    const task: Task = {
      id: id ?? this.newTaskId(now),
      name: request.name,
      kind: request.kind,
      payload: request.payload,
      priority: request.priority,
      capabilities: requiredCapabilities(request),
      status: 'queued',
      agentId: null,
      attempts: 0,
      requeues: 0,
      maxRetries: request.maxRetries,
      timeoutMs: request.timeoutMs,
      progress: 0,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
      ...(request.dependsOn?.length ? { dependsOn: [...request.dependsOn] } : {}),
      ...(workflow ? { workflow } : {}),
    }
    // Known before it is announced: the history decides from the announcement whether to store it.
    if (ephemeral) this.ephemeral.add(task.id)
    this.admit(task)
    return task
  }

  /** Keeps a queued task (new, or back in the queue), puts it in the queue and announces it. */
  admit(task: Task): void {
    this.keep(task)
    if (!this.watchers.some((watcher) => watcher.holds?.(task))) this.queue.enqueue(task)
    this.publish(task)
  }

  /** Holds a task in memory, neither queued nor announced: a restored one, before the others are back too. */
  keep(task: Task): void {
    this.tasks.set(task.id, task)
    for (const watcher of this.watchers) watcher.known?.(task)
  }

  /** Keeps a finished task as history, without announcing it (a restored one). */
  keepFinished(task: Task): void {
    this.keep(task)
    this.finishedOrder.push(task.id)
  }

  /** Queues a finished task again, as a new attempt. */
  reopen(taskId: string): Task {
    const task = this.require(taskId)
    if (!isRetryable(task.status)) {
      throw new CoordinatorError(
        'conflict',
        `only failed, cancelled or timed-out tasks can be retried; ${taskId} is ${task.status}`,
      )
    }
    const index = this.finishedOrder.indexOf(taskId)
    if (index >= 0) this.finishedOrder.splice(index, 1)
    Object.assign(task, { status: 'queued', agentId: null, progress: 0, finishedAt: null, error: null, result: null })
    delete task.cancelledByDependency
    // The operator's retry is one more attempt, whatever the budget was.
    task.maxRetries = Math.max(task.maxRetries, countedAttempts(task))
    task.updatedAt = this.options.now()
    this.admit(task)
    return task
  }

  /** Ends a task, counts it and announces it; the oldest finished tasks beyond the bound leave memory. */
  finish(task: Task, status: Task['status'], fields: Partial<Task>): void {
    Object.assign(task, fields, { status, finishedAt: this.options.now() })
    task.updatedAt = task.finishedAt!
    if (status === 'succeeded') this.totals.succeeded++
    else if (isFailure(status)) this.totals.failed++
    this.totals.finished++
    this.finishedOrder.push(task.id)
    this.publish(task)
    // Before the bound may take it out of memory: what waits for it is found through it.
    for (const watcher of this.watchers) watcher.finished?.(task)
    while (this.finishedOrder.length > this.maxFinished) {
      const old = this.finishedOrder.shift()!
      const gone = this.tasks.get(old)
      this.tasks.delete(old)
      this.ephemeral.delete(old)
      this.queue.forget(old)
      if (gone) for (const watcher of this.watchers) watcher.forgotten?.(gone)
    }
  }

  get(taskId: string): Task | undefined {
    return this.tasks.get(taskId)
  }

  isEphemeral(taskId: string): boolean {
    return this.ephemeral.has(taskId)
  }

  has(taskId: string): boolean {
    return this.tasks.has(taskId)
  }

  require(taskId: string): Task {
    const task = this.tasks.get(taskId)
    if (!task) throw new CoordinatorError('not_found', `no task ${taskId}`)
    return task
  }

  /** Newest first, filtered, with the count before the limit. */
  list(query: TaskQuery): { tasks: Task[]; total: number } {
    const matches: Task[] = []
    for (const task of this.tasks.values()) {
      if (query.status && task.status !== query.status) continue
      if (query.agentId && task.agentId !== query.agentId) continue
      matches.push(task)
    }
    matches.sort((a, b) => b.createdAt - a.createdAt || (b.id > a.id ? 1 : -1))
    return { tasks: matches.slice(0, query.limit ?? 100).map((task) => ({ ...task })), total: matches.length }
  }

  /** Active tasks and the most recently finished ones: what a viewer starts from. */
  snapshot(finishedLimit: number): Task[] {
    const active: Task[] = []
    for (const task of this.tasks.values()) if (!isTerminal(task.status)) active.push({ ...task })
    const finished = this.finishedOrder.slice(-finishedLimit).map((id) => ({ ...this.tasks.get(id)! }))
    return [...active, ...finished]
  }

  /** Tasks an agent holds: assigned or running. */
  countRunning(): number {
    let running = 0
    for (const task of this.tasks.values()) if (isOnAgent(task.status)) running++
    return running
  }

  /** Each kind of the tasks in memory: its queued ones and those on agents. */
  countByKind(): Map<string, { queued: number; running: number }> {
    const counts = new Map<string, { queued: number; running: number }>()
    for (const task of this.tasks.values()) {
      let count = counts.get(task.kind)
      if (!count) counts.set(task.kind, (count = { queued: 0, running: 0 }))
      if (task.status === 'queued') count.queued++
      else if (isOnAgent(task.status)) count.running++
    }
    return counts
  }

  publish(task: Task): void {
    this.options.emit({ type: 'task:status', at: task.updatedAt, task: { ...task } })
  }

  /** Unique across restarts and roughly sortable by creation time. */
  private newTaskId(now: number): string {
    const counter = (this.nextTaskNumber++ % 1296).toString(36).padStart(2, '0')
    return `t-${now.toString(36)}${counter}-${Math.random().toString(36).slice(2, 6)}`
  }
}
