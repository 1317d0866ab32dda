/**
 * The status lists and the rules about statuses, without zod: the renderer,
 * the reducer and the coordinator import them from here, so the page bundle
 * does not pull in the schemas (~60 KB gzip) for a few constants, and the
 * dashboard offers exactly what the server allows. `domain.ts` builds its
 * zod enums from these same lists; `agent-messages.ts` its log level enum.
 */

export const AGENT_STATUSES = ['idle', 'busy', 'paused', 'error', 'offline'] as const
export type AgentStatus = (typeof AGENT_STATUSES)[number]

export const TASK_STATUSES = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]

/** The levels of a task's log lines, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

interface StatusRules {
  /** A state the task never leaves by itself. */
  terminal: boolean
  /** An agent holds the task. */
  onAgent: boolean
  /** Counted as failed (totals, metrics, the failure-rate alert); a cancel is the operator's choice, not a failure. */
  failure: boolean
  /** An operator may run it again (`task:retry`). */
  retryable: boolean
}

/** Exhaustive, so a status added to the list must be classified here before anything compiles. */
const RULES: Record<TaskStatus, StatusRules> = {
  queued: { terminal: false, onAgent: false, failure: false, retryable: false },
  assigned: { terminal: false, onAgent: true, failure: false, retryable: false },
  running: { terminal: false, onAgent: true, failure: false, retryable: false },
  succeeded: { terminal: true, onAgent: false, failure: false, retryable: false },
  failed: { terminal: true, onAgent: false, failure: true, retryable: true },
  cancelled: { terminal: true, onAgent: false, failure: false, retryable: true },
  timed_out: { terminal: true, onAgent: false, failure: true, retryable: true },
}

/** States a task never leaves. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = TASK_STATUSES.filter((status) => RULES[status].terminal)

export function isTerminal(status: TaskStatus): boolean {
  return RULES[status].terminal
}

/** Whether an operator may cancel a task in this status (`task:cancel`): it has not ended. */
export function isCancellable(status: TaskStatus): boolean {
  return !RULES[status].terminal
}

/** Whether an operator may retry a task in this status (`task:retry`): it failed, timed out or was cancelled. */
export function isRetryable(status: TaskStatus): boolean {
  return RULES[status].retryable
}

/** Whether an agent holds a task in this status (assigned, running). */
export function isOnAgent(status: TaskStatus): boolean {
  return RULES[status].onAgent
}

/** Whether a task that ended so counts as failed: failed or timed out, not cancelled. */
export function isFailure(status: TaskStatus): boolean {
  return RULES[status].failure
}

/** Whether a task in this status ran to its end (succeeded, failed, timed out): its run time counts. */
export function ranToItsEnd(status: TaskStatus): boolean {
  return status === 'succeeded' || RULES[status].failure
}
