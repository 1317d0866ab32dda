/**
 * Bulk actions on tasks (`POST /api/tasks/bulk`, the `task:bulk` command),
 * zod-free so the dashboard can import it: the bounds, the answer, and the
 * one rule of which task a filter matches, which the server applies to the
 * tasks it holds in memory and the Tasks view to the rows it shows, so
 * "all N matching" means the same on both sides. The request's schema is
 * `TaskBulkSchema` in `commands.ts`.
 */
import type { TaskStatus, TaskSummary } from './domain'

export const TASK_BULK_ACTIONS = ['cancel', 'retry'] as const
export type TaskBulkAction = (typeof TASK_BULK_ACTIONS)[number]

export const TASK_BULK_LIMITS = {
  /**
   * Ids one request may list. 1,000 typical ids are about 21 KB, well inside the 64 KiB message limit; a larger
   * set is sent as a filter, or as several requests (the Tasks view does both).
   */
  ids: 1000,
  /** Skipped tasks the answer lists; `skippedTotal` counts them all. */
  skippedListed: 100,
  /** The longest `filter.text`. */
  textLength: 200,
  /** How long the server works through a bulk action, or on how many tasks, before it commits them and lets other work run. */
  sliceMs: 8,
  sliceTasks: 250,
} as const

/** Which tasks, of those the server holds in memory: every field given must hold (AND). */
export interface TaskBulkFilter {
  /** One status, or any of several. */
  status?: TaskStatus | TaskStatus[]
  /** Exactly this kind. */
  kind?: string
  /** The agent that holds (or last held) the task, by id. */
  agent?: string
  /** Case-insensitive, in the task's name, id, kind or error: the Tasks view's text filter. */
  text?: string
}

/** Exactly one of `filter` and `ids`. `dryRun`: answer what would happen, change nothing. */
export type TaskBulkRequest = { action: TaskBulkAction; dryRun?: boolean } & (
  { filter: TaskBulkFilter; ids?: never } | { ids: string[]; filter?: never }
)

export interface TaskBulkSkip {
  id: string
  /** Why it was left alone: "already succeeded", "no such task in memory", … */
  reason: string
}

export interface TaskBulkAnswer {
  action: TaskBulkAction
  dryRun: boolean
  /** Tasks the filter matched, or distinct ids listed. */
  matched: number
  /** Tasks cancelled or queued again (on a dry run: that would be). */
  changed: number
  /** The first `TASK_BULK_LIMITS.skippedListed` left alone, in the order they were met. */
  skipped: TaskBulkSkip[]
  /** All left alone: `matched - changed`. */
  skippedTotal: number
}

/** Whether a task matches a bulk filter; `text` already lower-cased by the caller when it matches many. */
export function matchesBulkFilter(
  task: TaskSummary,
  filter: TaskBulkFilter,
  text = filter.text?.toLowerCase(),
): boolean {
  const { status, kind, agent } = filter
  if (status !== undefined && (typeof status === 'string' ? task.status !== status : !status.includes(task.status))) {
    return false
  }
  if (kind !== undefined && task.kind !== kind) return false
  if (agent !== undefined && task.agentId !== agent) return false
  if (text) {
    return (
      task.name.toLowerCase().includes(text) ||
      task.id.toLowerCase().includes(text) ||
      task.kind.toLowerCase().includes(text) ||
      (task.error?.toLowerCase().includes(text) ?? false)
    )
  }
  return true
}
