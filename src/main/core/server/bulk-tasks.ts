/**
 * Bulk actions: cancel or retry every task a filter matches, or a list of
 * ids, among the tasks the coordinator holds in memory (every unfinished
 * task, and the newest finished ones it keeps). A task only in the stored
 * history cannot be retried one by one either, so a bulk action does not
 * look there.
 *
 * The tasks are chosen at once (a snapshot of ids), then acted on one by one
 * through the coordinator's own `cancel` and `retry`, in slices (at most
 * `TASK_BULK_LIMITS.sliceMs` of work or `sliceTasks` tasks) with a
 * `setImmediate` between them: 10,000 tasks never hold the event loop for
 * long, and each slice's events leave for the viewers as a few batches (the
 * pipeline's batcher sends a turn's terminal events together, at most 100 to
 * a message). Each slice is committed to the history before the next starts:
 * SQLite writes on this thread, and one commit of thousands of changed tasks
 * would itself stall the loop for most of a second (measured), so the action
 * goes at the pace the database takes it, and its answer comes once every
 * change is stored. Each task is judged when its turn comes, so one that
 * ended meanwhile is skipped with the reason.
 */
import { isCancellable, isRetryable } from '../../../shared/statuses'
import type { Task } from '../../../shared/domain'
import type { TaskBulk } from '../../../shared/commands'
import { matchesBulkFilter, TASK_BULK_LIMITS, type TaskBulkAnswer, type TaskBulkSkip } from '../../../shared/task-bulk'
import { CoordinatorError, type Coordinator } from '../coordinator/coordinator'
import type { TaskHistory } from '../storage/history'

/** A coordinator with a bulk action under way: a second one waits its turn (refused, `conflict`). */
const busy = new WeakSet<Coordinator>()

/** Cancels first what waits in the queue: otherwise the agents a running task frees would start it just before. */
const CANCEL_ORDER: Record<Task['status'], number> = {
  queued: 0,
  assigned: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  cancelled: 3,
  timed_out: 3,
}

/** Why a task in memory is left alone, or null when the action applies to it. */
function ineligible(action: TaskBulk['action'], task: Task): string | null {
  if (action === 'cancel') return isCancellable(task.status) ? null : `already ${task.status}`
  return isRetryable(task.status) ? null : `${task.status}: only failed, cancelled or timed-out tasks are retried`
}

/** The tasks an action is about, in the order it takes them; `missing`: ids listed that memory does not hold. */
function choose(coordinator: Coordinator, request: TaskBulk): { ids: string[]; missing: string[] } {
  if (request.ids) {
    const ids: string[] = []
    const missing: string[] = []
    for (const id of new Set(request.ids)) (coordinator.getTask(id) ? ids : missing).push(id)
    return { ids, missing }
  }
  const filter = request.filter!
  const text = filter.text?.toLowerCase()
  const { tasks } = coordinator.listTasks({ limit: Number.MAX_SAFE_INTEGER })
  const matched = tasks.filter((task) => matchesBulkFilter(task, filter, text))
  // Oldest first (the list is newest first): the order they were submitted in, which is also the queue's.
  matched.reverse()
  if (request.action === 'cancel') matched.sort((a, b) => CANCEL_ORDER[a.status] - CANCEL_ORDER[b.status])
  return { ids: matched.map((task) => task.id), missing: [] }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Commits what the slice changed (the history commits in order, so the last task's commit holds them all), then
 * lets other work run. A history that is down keeps the changes until it is back (buffered-history.ts): the action
 * goes on in memory.
 */
async function settle(history: Pick<TaskHistory, 'durable'>, lastChanged: string | null): Promise<void> {
  if (lastChanged !== null) await history.durable(lastChanged).catch(() => undefined)
  await nextTurn()
}

/**
 * Runs one bulk action (or, with `dryRun`, says what it would do). Refused with `conflict` while another runs on
 * this coordinator; anything else the coordinator refuses for one task is that task's skip reason.
 */
export async function runBulk(
  coordinator: Coordinator,
  history: Pick<TaskHistory, 'durable'>,
  request: TaskBulk,
): Promise<TaskBulkAnswer> {
  if (!request.dryRun && busy.has(coordinator)) {
    throw new CoordinatorError('conflict', 'another bulk action is under way; retry when it has finished')
  }
  const { ids, missing } = choose(coordinator, request)
  const skipped: TaskBulkSkip[] = []
  let skippedTotal = 0
  const skip = (id: string, reason: string): void => {
    skippedTotal++
    if (skipped.length < TASK_BULK_LIMITS.skippedListed) skipped.push({ id, reason })
  }
  for (const id of missing) skip(id, 'no such task in memory')
  let changed = 0
  let lastChanged: string | null = null
  const act = (id: string): void => {
    const task = coordinator.getTask(id)
    const reason = task ? ineligible(request.action, task) : 'no longer in memory'
    if (reason !== null) return skip(id, reason)
    if (request.dryRun) {
      changed++
      return
    }
    try {
      if (request.action === 'cancel') coordinator.cancel(id, 'cancelled by operator (bulk action)')
      else coordinator.retry(id)
      changed++
      lastChanged = id
    } catch (error) {
      if (!(error instanceof CoordinatorError)) throw error
      skip(id, error.message)
    }
  }

  if (request.dryRun) {
    ids.forEach(act)
  } else {
    busy.add(coordinator)
    try {
      let sliceStart = performance.now()
      let inSlice = 0
      for (const id of ids) {
        if (inSlice >= TASK_BULK_LIMITS.sliceTasks || performance.now() - sliceStart >= TASK_BULK_LIMITS.sliceMs) {
          await settle(history, lastChanged)
          sliceStart = performance.now()
          inSlice = 0
        }
        act(id)
        inSlice++
      }
      await settle(history, lastChanged)
    } finally {
      busy.delete(coordinator)
    }
  }
  return {
    action: request.action,
    dryRun: request.dryRun,
    matched: ids.length + missing.length,
    changed,
    skipped,
    skippedTotal,
  }
}

/** The audit record's target: what was asked for, in short. */
export function bulkTarget(request: TaskBulk): string {
  if (request.ids) return `${request.action} ${new Set(request.ids).size} ids`
  const parts = Object.entries(request.filter!).map(([key, value]) => `${key}=${String(value)}`)
  return `${request.action} filter ${parts.length ? parts.join(' ') : '(all)'}`
}

/** The audit record's note: how it ended. */
export function bulkSummary(answer: TaskBulkAnswer): string {
  const counts = `matched ${answer.matched}, changed ${answer.changed}, skipped ${answer.skippedTotal}`
  return answer.dryRun ? `dry run: ${counts}` : counts
}
