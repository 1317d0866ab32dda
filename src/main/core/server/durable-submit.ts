/**
 * The submit path's promise: a task is durable before its submitter hears
 * `201` (HTTP) or `ok` (Socket.IO `task:submit`). While the history database
 * takes no writes, submissions are refused with `unavailable` (503) and
 * nothing is accepted; when the commit of a task fails under our feet, the
 * task is cancelled (it must not run as if accepted) and the submitter hears
 * `unavailable` too. Never accepted and lost.
 */
import { fail, type Result } from '../../../shared/result'
import type { Coordinator } from '../coordinator/coordinator'
import type { TaskHistory } from '../storage/history'

/** What the submit path needs of the history. */
export type SubmitHistory = Pick<TaskHistory, 'durable' | 'outage'>

export async function submitDurably<T>(
  history: SubmitHistory,
  coordinator: Pick<Coordinator, 'cancel'>,
  submit: () => Result<T>,
  /** The tasks the submission made (one task, or a workflow's every task). */
  taskIds: (data: T) => readonly string[],
): Promise<Result<T>> {
  const outage = history.outage()
  if (outage) {
    return fail(
      'unavailable',
      `the history database is unavailable (${outage.error}), so no task can be accepted now; nothing was stored, submit again once it is back`,
    )
  }
  const result = submit()
  if (!result.ok) return result
  const ids = taskIds(result.data)
  try {
    await Promise.all(ids.map((id) => history.durable(id)))
    return result
  } catch (error) {
    const reason = (error as Error).message
    for (const id of ids) {
      try {
        coordinator.cancel(id, `not accepted: ${reason}`)
      } catch {
        // It ended already (a very quick task, or one its dependency's cancel took with it): nothing left to stop.
      }
    }
    const what = ids.length === 1 ? 'the task was' : `its ${ids.length} tasks were`
    return fail(
      'unavailable',
      `${reason}; ${what} not accepted (cancelled), submit ${ids.length === 1 ? 'it' : 'them'} again once it is back`,
    )
  }
}
