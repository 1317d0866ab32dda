/**
 * The event-to-row rules, the same for every backend: which tasks are stored
 * (not the server's own pretend work), which changes are transitions (a new
 * status, once), and how many log lines a task keeps (the rest are counted).
 * It gathers changes into a `Batch` for the next commit and knows nothing of
 * SQL or of when commits happen (`buffered-history.ts` does).
 */
import type { Task, TaskLogLine } from '../../../shared/domain'
import { isTerminal } from '../../../shared/domain'
import type { SwarmChange } from '../../../shared/events'
import { emptyBatch, type Batch } from './rows'

export interface RecorderOptions {
  /** Log lines kept per task. */
  maxLogLines: number
  /** Tasks not to store (the demo swarm's synthetic ones). */
  ephemeral?: (task: Task) => boolean
}

/** What a recorded event asks of the writer: commit now (a newly accepted task), soon, or nothing. */
export type Urgency = 'now' | 'soon' | null

export class Recorder {
  private readonly pendingTasks = new Map<string, Task>()
  private pending: Batch = emptyBatch()
  /** Last stored status of unfinished tasks, to record transitions only when the status changes. */
  private readonly lastStatus = new Map<string, Task['status']>()
  /** Log lines per task so far (stored and pending), for the per-task bound. */
  private readonly logCounts = new Map<string, number>()
  private readonly skipped = new Set<string>()

  constructor(private readonly options: RecorderOptions) {}

  /** What the database already holds, read at start: where each task's status and log count stand. */
  prime(rows: readonly { task: Task; logCount: number }[]): void {
    for (const { task, logCount } of rows) {
      this.logCounts.set(task.id, logCount)
      if (!isTerminal(task.status)) this.lastStatus.set(task.id, task.status)
    }
  }

  take(event: SwarmChange): Urgency {
    if (event.type === 'task:status') return this.takeTask(event.task)
    if (event.type === 'task:log' && event.taskId) return this.takeLog(event.taskId, event)
    return null
  }

  private takeTask(task: Task): Urgency {
    if (this.skipped.has(task.id)) {
      if (isTerminal(task.status)) this.skipped.delete(task.id)
      return null
    }
    if (this.options.ephemeral?.(task)) {
      if (!isTerminal(task.status)) this.skipped.add(task.id)
      return null
    }
    const isNew = !this.lastStatus.has(task.id) && !this.pendingTasks.has(task.id) && task.attempts === 0
    this.pendingTasks.set(task.id, task)
    if (this.lastStatus.get(task.id) !== task.status) {
      this.pending.transitions.push({
        taskId: task.id,
        at: task.updatedAt,
        status: task.status,
        agentId: task.agentId,
        attempt: task.attempts,
        error: task.error,
      })
    }
    if (isTerminal(task.status)) this.lastStatus.delete(task.id)
    else this.lastStatus.set(task.id, task.status)
    // An accepted task is committed before its submitter hears "queued".
    return isNew ? 'now' : 'soon'
  }

  private takeLog(taskId: string, line: TaskLogLine & { agentId: string | null }): Urgency {
    if (this.skipped.has(taskId)) return null
    const count = (this.logCounts.get(taskId) ?? 0) + 1
    this.logCounts.set(taskId, count)
    if (count <= this.options.maxLogLines) {
      this.pending.logs.push({ taskId, agentId: line.agentId, at: line.at, level: line.level, message: line.message })
    } else {
      this.pending.dropped.set(taskId, (this.pending.dropped.get(taskId) ?? 0) + 1)
    }
    return 'soon'
  }

  get hasPending(): boolean {
    return (
      this.pendingTasks.size > 0 ||
      this.pending.transitions.length > 0 ||
      this.pending.logs.length > 0 ||
      this.pending.dropped.size > 0
    )
  }

  /** Whether anything recorded for this task waits for a commit. */
  holds(taskId: string): boolean {
    return (
      this.pendingTasks.has(taskId) ||
      this.pending.dropped.has(taskId) ||
      this.pending.transitions.some((t) => t.taskId === taskId) ||
      this.pending.logs.some((line) => line.taskId === taskId)
    )
  }

  /** Everything pending, for one commit; the recorder starts a new batch. */
  drain(): Batch {
    const batch = { ...this.pending, tasks: [...this.pendingTasks.values()] }
    this.pendingTasks.clear()
    this.pending = emptyBatch()
    return batch
  }

  /** A batch whose commit failed goes back in front of what was recorded since, to be written again. */
  putBack(batch: Batch): void {
    for (const task of batch.tasks) if (!this.pendingTasks.has(task.id)) this.pendingTasks.set(task.id, task)
    this.pending.transitions = [...batch.transitions, ...this.pending.transitions]
    this.pending.logs = [...batch.logs, ...this.pending.logs]
    for (const [taskId, lines] of batch.dropped) {
      this.pending.dropped.set(taskId, (this.pending.dropped.get(taskId) ?? 0) + lines)
    }
  }

  /** A batch is committed: finished tasks need no log counter any more. */
  committed(batch: Batch): void {
    for (const task of batch.tasks) if (isTerminal(task.status)) this.logCounts.delete(task.id)
  }
}
