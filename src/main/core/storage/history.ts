/**
 * The task history port: what the core asks of durable storage, whatever the
 * database behind it. Two adapters implement it (`open-history.ts` picks one
 * from `--database`): SQLite, embedded, the default; and PostgreSQL. Both are
 * a `BufferedHistory` (the event-to-row rules and the write discipline) over
 * a `HistoryBackend` (the SQL), and one contract suite runs against both.
 *
 * The promise the submit path relies on: `durable(taskId)` resolves only once
 * everything recorded for that task so far is committed, and rejects with a
 * `HistoryUnavailableError` when it cannot be; a submitter hears `201` / `ok`
 * only after it resolved.
 */
import type { Task, TaskDetail, TaskStatus } from '../../../shared/domain'
import type { LogLevel, SwarmChange } from '../../../shared/events'
import type { HistoryLogLine } from '../../../shared/history-api'
import type { SearchTerm } from '../../../shared/search'

export interface RetentionPolicy {
  /** Finished tasks kept; the oldest go first. */
  maxTasks: number
  /** Finished tasks older than this are deleted. */
  maxAgeMs: number
}

export interface RetentionReport {
  maxTasks: number
  maxAgeMs: number
  /** Finished tasks deleted by retention since the history was created. */
  droppedTotal: number
  lastPrunedAt: number | null
}

/** Which stored tasks: every field given must hold (AND). */
export interface TaskFilter {
  /** Full text (`src/shared/search.ts`): the task's id, name, kind, error, result or payload, or one of its log lines, holds every term. */
  search?: readonly SearchTerm[]
  /** One status, or any of several. */
  status?: TaskStatus | readonly TaskStatus[]
  kind?: string
  agentId?: string
  /** Created at or after (epoch ms). */
  since?: number
  /** Created before (epoch ms). */
  until?: number
}

/** A filter and a page over the stored tasks, newest first. */
export interface HistoryQuery extends TaskFilter {
  /** At most this many tasks (1 to 1000). */
  limit: number
  /** The `next` of the previous page; absent: the first page. */
  cursor?: string
}

export interface HistoryPage {
  tasks: Task[]
  /** Tasks matching the filter, over all pages. */
  total: number
  /** Hand back as `cursor` for the next page; null on the last one. */
  next: string | null
}

/** A page without its total: what an export reads, page after page. */
export type TaskPage = Omit<HistoryPage, 'total'>

/** Which stored log lines, newest first. */
export interface LogQuery {
  search?: readonly SearchTerm[]
  taskId?: string
  agentId?: string
  /** Any of these levels; absent: all. */
  levels?: readonly LogLevel[]
  /** At or after (epoch ms). */
  since?: number
  /** Before (epoch ms). */
  until?: number
  /** At most this many lines (1 to 1000). */
  limit: number
  cursor?: string
}

/** A log line as the history keeps it: what `GET /api/logs` gives. */
export type StoredLogLine = HistoryLogLine

export interface LogPage {
  lines: StoredLogLine[]
  next: string | null
}

/** Why writes do not go through, while they do not. */
export interface HistoryOutage {
  /** Epoch ms of the first failure of this outage. */
  since: number
  /** The last error, in one line. */
  error: string
  /** The database, without its password. */
  database: string
}

export interface OpenReport {
  /** The database, without its password, e.g. `sqlite:/var/lib/swarm-monitor/swarm.db`. */
  database: string
  /** Schema version found, and the one it is at now (equal when nothing was migrated). */
  migratedFrom: number
  schemaVersion: number
}

/** Tasks read back at start, and the rows that could not be read (left in place, named). */
export interface Restored {
  tasks: Task[]
  invalid: { id: string; problem: string }[]
}

export interface TaskHistory {
  /** Connects (or opens the file) and brings the schema up to date; throws a `HistoryOpenError`. */
  open(): Promise<OpenReport>
  /** Every stored task, oldest first: finished ones as they ended, unfinished ones as last recorded. */
  restore(): Promise<Restored>
  /** Takes one domain event; task changes and log lines are stored, the rest ignored. Never throws. */
  record(event: SwarmChange): void
  /** Resolves once everything recorded for the task is committed; rejects with `HistoryUnavailableError`. */
  durable(taskId: string): Promise<void>
  /** Null while writes go through. */
  outage(): HistoryOutage | null
  /** The task with its transitions and log lines, or undefined when it is not stored. */
  detail(taskId: string): Promise<TaskDetail | undefined>
  /** Stored tasks, newest first, filtered and paged; throws `HistoryQueryError` for a cursor no page handed out. */
  list(query: HistoryQuery): Promise<HistoryPage>
  /** Every stored task the filter matches, newest first, read `pageSize` at a time (an export). */
  scan(filter: TaskFilter, pageSize?: number): AsyncGenerator<Task[], void, undefined>
  /** Stored log lines, newest first, filtered and paged. */
  logs(query: LogQuery): Promise<LogPage>
  /** Deletes finished tasks past the retention policy; resolves with how many went. */
  prune(): Promise<number>
  retention(): RetentionReport
  /** Writes what is pending (as far as the database lets it) and lets go of the database. */
  close(): Promise<void>
}

/** The history cannot take writes now: a submit is refused with `503` (`unavailable`). */
export class HistoryUnavailableError extends Error {
  override name = 'HistoryUnavailableError'
}

/**
 * The history cannot be opened at start. `exitCode` 2: the database is
 * unreachable, refused us, or is newer than this program (fix the setting or
 * the database); 1: anything else (a file or addon that cannot be opened).
 */
export class HistoryOpenError extends Error {
  override name = 'HistoryOpenError'
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message)
  }
}

/** A `cursor` that no page handed out. */
export class HistoryQueryError extends Error {
  override name = 'HistoryQueryError'
}
