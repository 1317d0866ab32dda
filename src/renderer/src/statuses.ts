/**
 * Status lists and the terminal rule, as the renderer needs them.
 *
 * src/shared/domain.ts has the same lists, but importing any value from it
 * pulls zod (its schemas) into the page bundle: ~60 KB gzip for three
 * constants. These Records are exhaustive at compile time, so a status added
 * to the shared types fails this build until it is added here too, and a
 * unit test checks that order and content match the shared lists.
 */
import type { AgentStatus, TaskStatus } from '../../shared/domain'

const AGENT_STATUS_SET: Record<AgentStatus, true> = { idle: true, busy: true, paused: true, error: true, offline: true }

const TASK_TERMINAL: Record<TaskStatus, boolean> = {
  queued: false,
  assigned: false,
  running: false,
  succeeded: true,
  failed: true,
  cancelled: true,
  timed_out: true,
}

export const AGENT_STATUS_LIST = Object.keys(AGENT_STATUS_SET) as AgentStatus[]
export const TASK_STATUS_LIST = Object.keys(TASK_TERMINAL) as TaskStatus[]

export function isTerminalStatus(status: TaskStatus): boolean {
  return TASK_TERMINAL[status]
}
