/**
 * The SQL side of the history, one implementation per database
 * (`sqlite-backend.ts`, `postgres-backend.ts`). It stores batches and reads
 * rows back, parsed (rows.ts); the rules of what to store and when to commit
 * are `BufferedHistory`'s, so both databases follow the same ones.
 */
import type { Task, TaskDetail } from '../../../shared/domain'
import type { HistoryQuery, LogPage, LogQuery, OpenReport, TaskFilter, TaskPage } from './history'
import type { OperatorStore } from './operator-store'
import type { Batch } from './rows'

export interface StoredRow {
  id: string
  /** The stored task, or why it could not be read. */
  task: Task | null
  problem: string | null
  logCount: number
}

export interface HistoryBackend {
  /** The database, without its password. */
  readonly database: string
  /** Opens or connects, and migrates; throws a `HistoryOpenError`. */
  open(): Promise<OpenReport>
  /** Every task row, oldest first (by creation, then insertion). */
  load(): Promise<StoredRow[]>
  /** Commits the batch in one transaction, or nothing of it. */
  write(batch: Batch): Promise<void>
  detail(taskId: string): Promise<TaskDetail | undefined>
  /** Tasks the filter matches. */
  count(filter: TaskFilter): Promise<number>
  /** One page of them, newest first; a cursor no page handed out is a `HistoryQueryError`. */
  page(query: HistoryQuery): Promise<TaskPage>
  logs(query: LogQuery): Promise<LogPage>
  /**
   * Deletes up to `limit` finished tasks that finished before `cutoff` or
   * beyond the newest `maxTasks` (oldest first; tasks that finished in the
   * same millisecond as the `maxTasks`-th newest are kept), with their
   * transitions and logs, in one transaction, and adds how many to the stored
   * total; resolves with how many went and the new total. The edge is found
   * on the finish-time index alone, so a long history costs an index walk,
   * not a sort of every row.
   */
  prune(cutoff: number, maxTasks: number, limit: number): Promise<{ dropped: number; total: number }>
  /** Finished tasks deleted by retention, ever (kept in the database). */
  droppedTotal(): Promise<number>
  /** Resolves when the database answers. */
  ping(): Promise<void>
  /** Told when the database goes away between queries (a dropped idle connection). */
  onLost(listener: (error: Error) => void): void
  /** The operator's records in the same database (operator-store.ts): usable while it is open. */
  operatorStore(): OperatorStore
  close(): Promise<void>
}
