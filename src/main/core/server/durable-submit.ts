/**
 * The submit path's promise: a task is durable before its submitter hears
 * `201` (HTTP) or `ok` (Socket.IO `task:submit`). While the history database
 * takes no writes, submissions are refused with `unavailable` (503) and
 * nothing is accepted; when the commit of a task fails under our feet, the
 * task is cancelled (it must not run as if accepted) and the submitter hears
 * `unavailable` too. Never accepted and lost.
 */
import type { Task } from '../../../shared/domain'
import { fail, type Result } from '../../../shared/result'
import type { Coordinator } from '../coordinator/coordinator'
import type { TaskHistory } from '../storage/history'

/** What the submit path needs of the history. */
export type SubmitHistory = Pick<TaskHistory, 'durable' | 'outage'>

export async function submitDurably(
  history: SubmitHistory,
  coordinator: Pick<Coordinator, 'cancel'>,
  submit: () => Result<Task>,
): Promise<Result<Task>> {
  const outage = history.outage()
  if (outage) {
    return fail(
      'unavailable',
      `the history database is unavailable (${outage.error}), so no task can be accepted now; nothing was stored, submit again once it is back`,
    )
  }
  const result = submit()
  if (!result.ok) return result
  try {
    await history.durable(result.data.id)
    return result
  } catch (error) {
    const reason = (error as Error).message
    try {
      coordinator.cancel(result.data.id, `not accepted: ${reason}`)
    } catch {
      // It ended already (a very quick task): there is nothing left to stop.
    }
    return fail('unavailable', `${reason}; the task was not accepted (cancelled), submit it again once it is back`)
  }
}
