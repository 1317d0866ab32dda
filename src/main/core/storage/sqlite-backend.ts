/**
 * The embedded history: one SQLite file (WAL), `<data-dir>/swarm.db` unless
 * `--database sqlite:PATH` says otherwise. better-sqlite3 is synchronous, so
 * a commit is done when `write` returns: a new task is on disk before the
 * submit that made it returns, as it always was.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
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
import { latestVersion, pendingMigrations } from './migrations'
import { ensurePrivateFile, tightenFile } from '../private-file'
import type { OperatorStore } from './operator-store'
import { SqliteOperatorStore } from './sqlite-operator'
import { SqliteReader } from './sqlite-reader'
import { SQLITE_MIGRATIONS } from './sqlite-schema'
import { countTasks, pageLogs, pageTasks } from './sqlite-search'
import {
  CountRowSchema,
  DetailRowSchema,
  IdRowSchema,
  LogRowSchema,
  logCounts,
  logPageOf,
  StoredLogRowSchema,
  taskSearchText,
  MetaRowSchema,
  droppedOf,
  pageOf,
  PageRowSchema,
  parseTask,
  rowsOf,
  TaskRowSchema,
  TransitionRowSchema,
  transitionOf,
  type Batch,
} from './rows'

export { SQLITE_MIGRATIONS } from './sqlite-schema'

export interface SqliteOptions {
  file: string
  /**
   * better-sqlite3's compiled addon (`better_sqlite3.node`) to load instead of
   * its own build: the desktop app from a checkout runs in Electron, whose
   * Node ABI differs from the Node that `npm install` built it for.
   */
  nativeBinding?: string
  /** The schema version to stop at (tests of migrations); default the latest. */
  targetVersion?: number
  /** Told when searches cannot run on worker threads here (they then run on the server's). */
  warn?: (message: string) => void
}

const DROPPED_TOTAL = 'retention_dropped_total'

export class SqliteBackend implements HistoryBackend {
  readonly database: string
  private db: Database.Database | null = null
  /** Searches and pages, off the server's thread. */
  private reader: SqliteReader | null = null
  /** The write statements, prepared at the first write. */
  private writes: Record<'upsert' | 'index' | 'transition' | 'log' | 'indexLog' | 'count', Database.Statement> | null =
    null

  constructor(private readonly options: SqliteOptions) {
    this.database = `sqlite:${options.file}`
  }

  private get handle(): Database.Database {
    if (!this.db) throw new Error('the history database is closed')
    return this.db
  }

  async open(): Promise<OpenReport> {
    const { file, nativeBinding } = this.options
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
      // It holds task payloads, env values included: 0600. SQLite gives the -wal and -shm files it creates
      // the database file's mode; ones left by a crash are narrowed here.
      ensurePrivateFile(file)
      for (const suffix of ['-wal', '-shm']) tightenFile(file + suffix)
      this.db = new Database(file, nativeBinding ? { nativeBinding } : {})
      this.db.pragma('journal_mode = WAL')
      // WAL + NORMAL: a commit survives the process being killed; only an OS crash can lose the last commits.
      this.db.pragma('synchronous = NORMAL')
    } catch (error) {
      this.db?.close()
      this.db = null
      const addon = nativeBinding ? ` with the SQLite addon ${nativeBinding}` : ''
      throw new HistoryOpenError(
        `cannot open the task history ${file}${addon}: ${(error as Error).message.split('\n')[0]}`,
        1,
      )
    }
    const report = this.migrate()
    this.reader = new SqliteReader(
      { file, nativeBinding },
      (sql, params) => this.handle.prepare(sql).all(...params),
      this.options.warn,
    )
    return report
  }

  private read(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    if (!this.reader) return Promise.reject(new Error('the history database is closed'))
    return this.reader.all(sql, params)
  }

  private migrate(): OpenReport {
    const db = this.handle
    const current = Number(db.pragma('user_version', { simple: true }))
    const target = this.options.targetVersion ?? latestVersion(SQLITE_MIGRATIONS)
    try {
      for (const migration of pendingMigrations(SQLITE_MIGRATIONS, current, this.database)) {
        if (migration.version > target) break
        db.transaction(() => {
          db.exec(migration.up)
          db.pragma(`user_version = ${migration.version}`)
        })()
      }
    } catch (error) {
      db.close()
      this.db = null
      throw error instanceof HistoryOpenError
        ? error
        : new HistoryOpenError(
            `cannot bring the task history ${this.options.file} up to date: ${(error as Error).message}`,
            1,
          )
    }
    return { database: this.database, migratedFrom: current, schemaVersion: Math.max(current, target) }
  }

  async load(): Promise<StoredRow[]> {
    const rows = this.handle.prepare('SELECT id, data, log_count FROM tasks ORDER BY created_at, rowid').all()
    return rowsOf(TaskRowSchema, rows, 'tasks').map((row) => {
      const parsed = parseTask(row.data)
      return parsed.ok
        ? { id: row.id, task: parsed.task, problem: null, logCount: row.log_count }
        : { id: row.id, task: null, problem: parsed.problem, logCount: row.log_count }
    })
  }

  async write(batch: Batch): Promise<void> {
    const db = this.handle
    this.writes ??= {
      upsert: db.prepare(
        `INSERT INTO tasks (id, status, kind, created_at, finished_at, agent_id, data) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
           agent_id = excluded.agent_id, data = excluded.data
         RETURNING ord`,
      ),
      index: db.prepare('INSERT OR REPLACE INTO tasks_fts (rowid, body) VALUES (?, ?)'),
      transition: db.prepare(
        'INSERT INTO transitions (task_id, at, status, agent_id, attempt, error) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      log: db.prepare('INSERT INTO task_logs (task_id, agent_id, at, level, message) VALUES (?, ?, ?, ?, ?)'),
      indexLog: db.prepare('INSERT INTO task_logs_fts (rowid, message) VALUES (?, ?)'),
      count: db.prepare('UPDATE tasks SET log_count = log_count + ?, logs_dropped = logs_dropped + ? WHERE id = ?'),
    }
    const { upsert, index, transition, log, indexLog, count } = this.writes
    db.transaction(() => {
      for (const task of batch.tasks) {
        const row = upsert.get(
          task.id,
          task.status,
          task.kind,
          task.createdAt,
          task.finishedAt,
          task.agentId,
          JSON.stringify(task),
        ) as { ord: number }
        index.run(row.ord, taskSearchText(task))
      }
      for (const t of batch.transitions) transition.run(t.taskId, t.at, t.status, t.agentId, t.attempt, t.error)
      for (const line of batch.logs) {
        const { lastInsertRowid } = log.run(line.taskId, line.agentId, line.at, line.level, line.message)
        indexLog.run(lastInsertRowid, line.message)
      }
      for (const [taskId, counts] of logCounts(batch)) count.run(counts.kept, counts.dropped, taskId)
    })()
  }

  async detail(taskId: string): Promise<TaskDetail | undefined> {
    const db = this.handle
    const row = rowsOf(
      DetailRowSchema,
      db.prepare('SELECT data, logs_dropped FROM tasks WHERE id = ?').all(taskId),
      'tasks',
    )[0]
    if (!row) return undefined
    const parsed = parseTask(row.data)
    if (!parsed.ok) throw new Error(`task ${taskId} is stored, but ${parsed.problem}`)
    const transitions = db
      .prepare('SELECT at, status, agent_id, attempt, error FROM transitions WHERE task_id = ? ORDER BY rowid')
      .all(taskId)
    const logs = db.prepare('SELECT at, level, message FROM task_logs WHERE task_id = ? ORDER BY rowid').all(taskId)
    return {
      ...parsed.task,
      transitions: rowsOf(TransitionRowSchema, transitions, 'transitions').map(transitionOf),
      logs: rowsOf(LogRowSchema, logs, 'task_logs'),
      logsDropped: row.logs_dropped,
    }
  }

  async count(filter: TaskFilter): Promise<number> {
    const { sql, params } = countTasks(filter)
    return rowsOf(CountRowSchema, await this.read(sql, params), 'tasks')[0]!.total
  }

  async page(query: HistoryQuery): Promise<TaskPage> {
    const { sql, params } = pageTasks(query)
    return pageOf(rowsOf(PageRowSchema, await this.read(sql, params), 'tasks'), query.limit)
  }

  async logs(query: LogQuery): Promise<LogPage> {
    const { sql, params } = pageLogs(query)
    return logPageOf(rowsOf(StoredLogRowSchema, await this.read(sql, params), 'task_logs'), query.limit)
  }

  async prune(cutoff: number, maxTasks: number, limit: number): Promise<{ dropped: number; total: number }> {
    const db = this.handle
    return db.transaction(() => {
      const old = rowsOf(
        IdRowSchema,
        db
          .prepare(
            `SELECT id FROM tasks
             WHERE finished_at IS NOT NULL AND finished_at < max(?, coalesce((
               SELECT finished_at FROM tasks WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1 OFFSET ?), ?))
             ORDER BY finished_at LIMIT ?`,
          )
          .all(cutoff, Math.max(0, maxTasks - 1), cutoff, limit),
        'tasks',
      ).map((row) => row.id)
      // The index rows first, while the rows they index can still be read (external content needs the old text).
      const unindex = db.prepare(
        `INSERT INTO task_logs_fts (task_logs_fts, rowid, message) SELECT 'delete', id, message FROM task_logs WHERE task_id = ?`,
      )
      const remove = [
        'tasks_fts WHERE rowid = (SELECT ord FROM tasks WHERE id = ?)',
        'tasks WHERE id = ?',
        'transitions WHERE task_id = ?',
        'task_logs WHERE task_id = ?',
      ].map((target) => db.prepare(`DELETE FROM ${target}`))
      for (const id of old) {
        unindex.run(id)
        for (const statement of remove) statement.run(id)
      }
      const total = this.readDropped() + old.length
      db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(DROPPED_TOTAL, String(total))
      return { dropped: old.length, total }
    })()
  }

  async droppedTotal(): Promise<number> {
    return this.readDropped()
  }

  private readDropped(): number {
    const rows = this.handle.prepare('SELECT value FROM meta WHERE key = ?').all(DROPPED_TOTAL)
    return droppedOf(rowsOf(MetaRowSchema, rows, 'meta')[0])
  }

  async ping(): Promise<void> {
    this.handle.prepare('SELECT 1').get()
  }

  onLost(): void {
    // A file does not go away between queries; a failing write says so itself.
  }

  operatorStore(): OperatorStore {
    return new SqliteOperatorStore(() => this.handle)
  }

  async close(): Promise<void> {
    await this.reader?.close()
    this.reader = null
    this.db?.close()
    this.db = null
    this.writes = null
  }
}
