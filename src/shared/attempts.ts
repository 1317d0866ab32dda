/**
 * A task's attempts against its retry budget: the rule the coordinator
 * retries by and the dashboard shows. Zod-free, so the renderer imports it.
 *
 * `attempts` counts every run an agent started; `requeues` those cut short
 * because the agent left or the server restarted. Those are not retries: a
 * task with `maxRetries: 0` that was requeued by a restart and then succeeded
 * used 1 attempt of 1, not 2.
 */
import type { Task } from './domain'

type Budgeted = Pick<Task, 'attempts' | 'requeues' | 'maxRetries'>

/** Runs that count against the retry budget: every run but those a requeue cut short. */
export function countedAttempts(task: Budgeted): number {
  return Math.max(0, task.attempts - task.requeues)
}

/** Attempts the task may use: the first one and `maxRetries` retries. */
export function allowedAttempts(task: Budgeted): number {
  return task.maxRetries + 1
}

/** Whether a failed or timed-out attempt (already counted) is followed by a retry. */
export function mayRetry(task: Budgeted): boolean {
  return countedAttempts(task) <= task.maxRetries
}
