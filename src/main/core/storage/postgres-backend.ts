/**
 * The history in PostgreSQL (`--database postgres://…`), through a small `pg`
 * pool. A commit is one transaction of a few statements, each row set sent as
 * arrays (`unnest`), so a commit of many tasks costs what one of a few does.
 * `durable()` resolves after `COMMIT` answered: with PostgreSQL's defaults
 * (`synchronous_commit = on`) the task is on the server's disk by then.
 */
import { Client, Pool, type PoolClient } from 'pg'
import type { TaskDetail } from '../../../shared/domain'
import type { HistoryBackend, StoredRow } from './backend'
import {
  HistoryOpenError,
  type HistoryQuery,
  type LogPage,
  type LogQuery,
  type OpenReport,
  type TaskFilter,
  type TaskPage,
} from './history'
import { latestVersion } from './migrations'
import type { OperatorStore } from './operator-store'
import { PostgresOperatorStore } from './postgres-operator'
import { migratePostgres, POSTGRES_MIGRATIONS } from './postgres-schema'
import { countTasks, pageLogs, pageTasks } from './postgres-search'
import { searchableText } from '../../../shared/search'
import {
  CountRowSchema,
  DetailRowSchema,
  droppedOf,
  LogRowSchema,
  logCounts,
  logPageOf,
  StoredLogRowSchema,
  taskSearchText,
  MetaRowSchema,
  pageOf,
  PageRowSchema,
  parseTask,
  rowsOf,
  TaskRowSchema,
  TransitionRowSchema,
  transitionOf,
  type Batch,
} from './rows'
import { inTransaction } from './pg-transaction'

export interface PostgresOptions {
  url: string
  /** Connections at most; default 4 (one commit at a time, plus reads). */
  poolSize?: number
  /** Giving up on connecting, and on one query; default 5 s and 15 s. */
  connectTimeoutMs?: number
  queryTimeoutMs?: number
  /** The schema version to stop at (tests of migrations); default the latest. */
  targetVersion?: number
}

const DROPPED_TOTAL = 'retention_dropped_total'
/** Errors of reaching the server, as opposed to the server answering no. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = ''
    return parsed.toString().replace(/:@/, '@')
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

/** A connection the server ended (admin_shutdown and kin, a reset): the pool drops it; another may work. */
function cutConnection(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown }
  return (
    (typeof code === 'string' && ['57P01', '57P02', '57P03', 'ECONNRESET', 'EPIPE'].includes(code)) ||
    (typeof message === 'string' && /connection terminated/i.test(message))
  )
}

/** PostgreSQL text cannot hold NUL: it becomes U+FFFD rather than failing the whole commit. */
const text = (value: string | null) => (value === null ? null : value.replaceAll('\u0000', '\uFFFD'))

export class PostgresBackend implements HistoryBackend {
  readonly database: string
  private readonly pool: Pool
  private readonly lost: ((error: Error) => void)[] = []

  constructor(private readonly options: PostgresOptions) {
    this.database = redactUrl(options.url)
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      query_timeout: options.queryTimeoutMs ?? 15_000,
      keepAlive: true,
      application_name: 'swarm-monitor',
    })
    // An idle connection the server dropped (a restart, a failover): without a listener this would crash the process.
    this.pool.on('error', (error) => {
      for (const listener of this.lost) listener(error)
    })
  }

  async open(): Promise<OpenReport> {
    const client = new Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
      application_name: 'swarm-monitor',
    })
    // An error after connecting (the server going away mid-migration) is answered by the query that fails.
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => {})
      await this.pool.end().catch(() => {})
      throw this.openError(error)
    }
    try {
      const target = this.options.targetVersion ?? latestVersion(POSTGRES_MIGRATIONS)
      const migratedFrom = await migratePostgres(client, this.database, target)
      return { database: this.database, migratedFrom, schemaVersion: Math.max(migratedFrom, target) }
    } catch (error) {
      await this.pool.end().catch(() => {})
      throw error instanceof HistoryOpenError ? error : this.openError(error)
    } finally {
      await client.end().catch(() => {})
    }
  }

  private openError(error: unknown): HistoryOpenError {
    const { code, message } = error as { code?: string; message?: string }
    const said = (message ?? String(error)).split('\n')[0]
    // A SQLSTATE (28P01 bad password, 3D000 no such database…) is the server saying no.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return new HistoryOpenError(`the history database ${this.database} refused the connection: ${said}`, 2)
    }
    const reason = code && UNREACHABLE.has(code) ? said : `${said}${code ? ` (${code})` : ''}`
    return new HistoryOpenError(`cannot reach the history database ${this.database}: ${reason}`, 2)
  }

  async load(): Promise<StoredRow[]> {
    const { rows } = await this.pool.query('SELECT id, data, log_count FROM tasks ORDER BY created_at, ord')
    return rowsOf(TaskRowSchema, rows, 'tasks').map((row) => {
      const parsed = parseTask(row.data)
      return parsed.ok
        ? { id: row.id, task: parsed.task, problem: null, logCount: row.log_count }
        : { id: row.id, task: null, problem: parsed.problem, logCount: row.log_count }
    })
  }

  async write(batch: Batch): Promise<void> {
    await this.transaction(async (client) => {
      const { tasks, transitions, logs } = batch
      if (tasks.length > 0) {
        await client.query(
          `INSERT INTO tasks (id, status, kind, created_at, finished_at, agent_id, data, search)
           SELECT id, status, kind, created_at, finished_at, agent_id, data, to_tsvector('simple', words)
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[])
             WITH ORDINALITY AS u (id, status, kind, created_at, finished_at, agent_id, data, words, n)
           ORDER BY n
           ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
             agent_id = excluded.agent_id, data = excluded.data, search = excluded.search`,
          [
            tasks.map((t) => t.id),
            tasks.map((t) => t.status),
            tasks.map((t) => text(t.kind)),
            tasks.map((t) => t.createdAt),
            tasks.map((t) => t.finishedAt),
            tasks.map((t) => text(t.agentId)),
            tasks.map((t) => JSON.stringify(t)),
            tasks.map((t) => searchableText(taskSearchText(t))),
          ],
        )
      }
      if (transitions.length > 0) {
        await client.query(
          `INSERT INTO transitions (task_id, at, status, agent_id, attempt, error)
           SELECT task_id, at, status, agent_id, attempt, error
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[])
             WITH ORDINALITY AS u (task_id, at, status, agent_id, attempt, error, n)
           ORDER BY n`,
          [
            transitions.map((t) => t.taskId),
            transitions.map((t) => t.at),
            transitions.map((t) => t.status),
            transitions.map((t) => text(t.agentId)),
            transitions.map((t) => t.attempt),
            transitions.map((t) => text(t.error)),
          ],
        )
      }
      if (logs.length > 0) {
        await client.query(
          `INSERT INTO task_logs (task_id, agent_id, at, level, message, search)
           SELECT task_id, agent_id, at, level, message, to_tsvector('simple', words)
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
             WITH ORDINALITY AS u (task_id, agent_id, at, level, message, words, n)
           ORDER BY n`,
          [
            logs.map((l) => l.taskId),
            logs.map((l) => text(l.agentId)),
            logs.map((l) => l.at),
            logs.map((l) => l.level),
            logs.map((l) => text(l.message)),
            logs.map((l) => searchableText(l.message)),
          ],
        )
      }
      const counts = [...logCounts(batch)]
      if (counts.length > 0) {
        await client.query(
          `UPDATE tasks SET log_count = log_count + u.kept, logs_dropped = logs_dropped + u.dropped
           FROM unnest($1::text[], $2::int[], $3::int[]) AS u (id, kept, dropped) WHERE tasks.id = u.id`,
          [counts.map(([id]) => id), counts.map(([, c]) => c.kept), counts.map(([, c]) => c.dropped)],
        )
      }
    })
  }

  async detail(taskId: string): Promise<TaskDetail | undefined> {
    const found = await this.pool.query('SELECT data, logs_dropped FROM tasks WHERE id = $1', [taskId])
    const row = rowsOf(DetailRowSchema, found.rows, 'tasks')[0]
    if (!row) return undefined
    const parsed = parseTask(row.data)
    if (!parsed.ok) throw new Error(`task ${taskId} is stored, but ${parsed.problem}`)
    const [transitions, logs] = await Promise.all([
      this.pool.query('SELECT at, status, agent_id, attempt, error FROM transitions WHERE task_id = $1 ORDER BY id', [
        taskId,
      ]),
      this.pool.query('SELECT at, level, message FROM task_logs WHERE task_id = $1 ORDER BY id', [taskId]),
    ])
    return {
      ...parsed.task,
      transitions: rowsOf(TransitionRowSchema, transitions.rows, 'transitions').map(transitionOf),
      logs: rowsOf(LogRowSchema, logs.rows, 'task_logs'),
      logsDropped: row.logs_dropped,
    }
  }

  async count(filter: TaskFilter): Promise<number> {
    const sql = countTasks(filter)
    return rowsOf(CountRowSchema, (await this.pool.query(sql.text, sql.values)).rows, 'tasks')[0]!.total
  }

  async page(query: HistoryQuery): Promise<TaskPage> {
    const sql = pageTasks(query)
    return pageOf(rowsOf(PageRowSchema, (await this.pool.query(sql.text, sql.values)).rows, 'tasks'), query.limit)
  }

  async logs(query: LogQuery): Promise<LogPage> {
    const sql = pageLogs(query)
    const { rows } = await this.pool.query(sql.text, sql.values)
    return logPageOf(rowsOf(StoredLogRowSchema, rows, 'task_logs'), query.limit)
  }

  async prune(cutoff: number, maxTasks: number, limit: number): Promise<{ dropped: number; total: number }> {
    return this.transaction(async (client) => {
      const gone = await client.query(
        `WITH edge AS (
           SELECT finished_at FROM tasks WHERE finished_at IS NOT NULL ORDER BY finished_at DESC OFFSET $2 LIMIT 1),
         doomed AS (
           SELECT id FROM tasks
           WHERE finished_at IS NOT NULL AND finished_at < GREATEST($1, (SELECT finished_at FROM edge))
           ORDER BY finished_at LIMIT $3),
         gone AS (DELETE FROM tasks WHERE id IN (SELECT id FROM doomed) RETURNING id),
         t AS (DELETE FROM transitions WHERE task_id IN (SELECT id FROM gone)),
         l AS (DELETE FROM task_logs WHERE task_id IN (SELECT id FROM gone))
         SELECT count(*) AS total FROM gone`,
        [cutoff, Math.max(0, maxTasks - 1), limit],
      )
      const dropped = rowsOf(CountRowSchema, gone.rows, 'tasks')[0]!.total
      const before = await client.query('SELECT value FROM meta WHERE key = $1 FOR UPDATE', [DROPPED_TOTAL])
      const total = droppedOf(rowsOf(MetaRowSchema, before.rows, 'meta')[0]) + dropped
      await client.query(
        'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [DROPPED_TOTAL, String(total)],
      )
      return { dropped, total }
    })
  }

  async droppedTotal(): Promise<number> {
    const { rows } = await this.pool.query('SELECT value FROM meta WHERE key = $1', [DROPPED_TOTAL])
    return droppedOf(rowsOf(MetaRowSchema, rows, 'meta')[0])
  }

  /**
   * Resolves when the database answers on some connection. When the server
   * cut every idle connection at once (an idle timeout, a pooler), the pool
   * may hand out another cut one before it heard so: each such failure
   * drops one, so a try per connection (and one more) tells a cut pool from
   * a database that is gone. Any other failure (refused, timed out) answers
   * at once.
   */
  async ping(): Promise<void> {
    const tries = (this.options.poolSize ?? 4) + 1
    for (let i = 1; ; i++) {
      try {
        await this.pool.query('SELECT 1')
        return
      } catch (error) {
        if (i >= tries || !cutConnection(error)) throw error
      }
    }
  }

  onLost(listener: (error: Error) => void): void {
    this.lost.push(listener)
  }

  operatorStore(): OperatorStore {
    return new PostgresOperatorStore(this.pool)
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {})
  }

  private transaction<T>(body: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, body)
  }
}
