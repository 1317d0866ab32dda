/**
 * Takes back tasks from storage after a restart: finished ones as history,
 * unfinished ones queued again (their agent is gone), oldest first.
 */
import type { Task } from '../../../shared/domain'
import { isTerminal } from '../../../shared/domain'
import type { Reclaims } from './reclaims'
import type { TaskBook } from './task-book'

export interface Restored {
  requeued: number
  /** Finished tasks found in storage, including those beyond what memory keeps. */
  finished: number
}

export function restoreTasks(
  book: TaskBook,
  stored: readonly Task[],
  now: () => number,
  reclaims?: Reclaims,
): Restored {
  const finished = stored
    .filter((task) => isTerminal(task.status))
    .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
  for (const task of finished.slice(-book.maxFinished)) book.keepFinished({ ...task })
  const unfinished: Task[] = []
  for (const row of stored) {
    if (isTerminal(row.status) || book.has(row.id)) continue
    const task: Task = { ...row, agentId: null, progress: 0, updatedAt: now() }
    if (row.status !== 'queued') {
      task.status = 'queued'
      task.error = `requeued: the server restarted while the task was ${row.status}`
      // The restart cut the run short, not the task: it does not count against its retries.
      task.requeues++
      // Its agent may still be running it: it gets a while to come back and say so (reclaims.ts).
      if (reclaims && row.agentId && (row.status === 'assigned' || row.status === 'running')) {
        task.error += `; waiting for agent ${row.agentId} to come back to it`
        reclaims.expect(task, row.agentId, row.status)
      }
    }
    // Every one is back before any is queued: whether a task waits depends on its dependencies' states.
    book.keep(task)
    unfinished.push(task)
  }
  for (const task of unfinished) book.admit(task)
  return { requeued: unfinished.length, finished: finished.length }
}
