/**
 * What the schedule book needs to make a run and to know where one stands;
 * the server's implementation goes through the durable submit path
 * (server/schedule-runner.ts), tests may give their own.
 */
import { isTerminal, TASK_STATUSES, type TaskStatus } from '../../../shared/statuses'
import type { Result } from '../../../shared/result'
import type { WorkflowState } from '../../../shared/workflows'

export interface Submitted {
  taskId: string | null
  workflowId: string | null
}

export interface ScheduleRunner {
  /** Submits the schedule's task or workflow (as stored: the submit schemas' input). */
  submit(target: { task: unknown } | { workflow: unknown }): Promise<Result<Submitted>>
  /** The task's status or the workflow's state; null when the server no longer holds it. */
  stateOf(run: Submitted): TaskStatus | WorkflowState | null
}

/** Whether a run's task or workflow has not ended (one the server no longer holds has). */
export function unfinished(state: TaskStatus | WorkflowState | null): boolean {
  if (state === null) return false
  if (state === 'active') return true
  return (TASK_STATUSES as readonly string[]).includes(state) && !isTerminal(state as TaskStatus)
}
