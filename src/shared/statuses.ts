/**
 * The status lists and the terminal rule, without zod: the renderer and the
 * reducer import them from here, so the page bundle does not pull in the
 * schemas (~60 KB gzip) for a few constants. `domain.ts` builds its zod
 * enums from these same lists.
 */

export const AGENT_STATUSES = ['idle', 'busy', 'paused', 'error', 'offline'] as const
export type AgentStatus = (typeof AGENT_STATUSES)[number]

export const TASK_STATUSES = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]

/** Exhaustive, so a status added to the list must be classified here before anything compiles. */
const TERMINAL: Record<TaskStatus, boolean> = {
  queued: false,
  assigned: false,
  running: false,
  succeeded: true,
  failed: true,
  cancelled: true,
  timed_out: true,
}

/** States a task never leaves. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = TASK_STATUSES.filter((status) => TERMINAL[status])

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL[status]
}
