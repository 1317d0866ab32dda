/**
 * The task history's life around the pipeline: opened and read back into
 * the coordinator before the server listens (so the first viewer's snapshot
 * already holds it), then pruned to its retention at start and every 10 min.
 */
import type { Coordinator } from '../coordinator/coordinator'
import type { Logger } from '../logger'
import { StartError } from '../start-error'
import { HistoryOpenError, type TaskHistory } from '../storage/history'

const PRUNE_INTERVAL_MS = 10 * 60_000

/**
 * Opens the history and restores its tasks; one that cannot be opened (unreachable, refused, newer, a bad addon) is
 * a StartError. Returns the ids the history held at start (readable or not): what a swarm file must not enqueue again.
 */
export async function restoreHistory(
  history: TaskHistory,
  coordinator: Coordinator,
  logger: Logger,
): Promise<ReadonlySet<string>> {
  await openHistory(history, logger)
  return restoreTasks(history, coordinator, logger)
}

/** Opens the history, bringing its schema up to date; one that cannot be opened is a StartError. */
export async function openHistory(history: TaskHistory, logger: Logger): Promise<void> {
  try {
    const opened = await history.open()
    if (opened.migratedFrom !== opened.schemaVersion) {
      logger.info(
        { database: opened.database, from: opened.migratedFrom, to: opened.schemaVersion },
        'history database schema brought up to date',
      )
    }
  } catch (error) {
    if (error instanceof HistoryOpenError) throw new StartError(error.message, error.exitCode)
    throw error
  }
}

/**
 * Puts the open history's tasks back into the coordinator (at start, or when a cluster node becomes the leader)
 * and applies the retention; returns the ids it held.
 */
export async function restoreTasks(
  history: TaskHistory,
  coordinator: Coordinator,
  logger: Logger,
): Promise<ReadonlySet<string>> {
  const stored = await history.restore()
  for (const { id, problem } of stored.invalid) {
    logger.warn({ taskId: id, problem }, 'a stored task could not be read: left in the database, not restored')
  }
  const restored = coordinator.restore(stored.tasks)
  if (restored.requeued + restored.finished > 0) logger.info(restored, 'tasks restored from the history database')
  // A retention that cannot be applied now (a slow or busy database) is no reason not to start: it runs again.
  const pruned = await history.prune().catch((error: unknown) => {
    logger.warn({ err: error }, 'history retention not applied at start; it runs again in 10 min')
    return 0
  })
  if (pruned > 0) logger.info({ pruned }, 'history retention applied')
  return new Set([...stored.tasks, ...stored.invalid].map((task) => task.id))
}

/** Applies the retention of the history (or of the audit trail) every 10 min; returns the stop. */
export function keepPruning(
  records: Pick<TaskHistory, 'prune'>,
  logger: Logger,
  what: 'history' | 'audit' = 'history',
): () => void {
  const timer = setInterval(() => {
    records.prune().catch((error: unknown) => {
      logger.warn({ err: error }, `${what} retention not applied this time; it runs again in 10 min`)
    })
  }, PRUNE_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
