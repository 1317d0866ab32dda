/**
 * Durable task history in SQLite (WAL): every task's latest state, its
 * transitions and its log lines (bounded per task). Writes are gathered and
 * committed together every `flushMs`, except that a newly accepted task is
 * committed before `submit` returns, so an accepted task survives a
 * `kill -9`. State changes in the last window before a crash may be lost;
 * such a task is found unfinished at restart and requeued (at-least-once).
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Task, TaskDetail, TaskLogLine, TaskTransition } from '../../../shared/domain'
import { isTerminal } from '../../../shared/domain'
import type { DomainEvent } from '../../../shared/events'
import { ensurePrivateFile, tightenFile } from './private-file'

export interface RetentionPolicy {
  /** Finished tasks kept; the oldest go first. */
  maxTasks: number
  /** Finished tasks older than this are deleted. */
  maxAgeMs: number
}

export interface StoreOptions {
  file: string
  retention: RetentionPolicy
  /** Log lines kept per task. */
  maxLogLines?: number
  flushMs?: number
  /** Tasks not to store (the demo swarm's synthetic ones). */
  ephemeral?: (task: Task) => boolean
  now?: () => number
  /**
   * better-sqlite3's compiled addon (`better_sqlite3.node`) to load instead of
   * its own build: the desktop app from a checkout runs in Electron, whose
   * Node ABI differs from the Node that `npm install` built it for.
   */
  nativeBinding?: string
}

export interface RetentionReport {
  maxTasks: number
  maxAgeMs: number
  /** Finished tasks deleted by retention since the store was created. */
  droppedTotal: number
  lastPrunedAt: number | null
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  data TEXT NOT NULL,
  log_count INTEGER NOT NULL DEFAULT 0,
  logs_dropped INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_finished_at ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS transitions (
  task_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  status TEXT NOT NULL,
  agent_id TEXT,
  attempt INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS transitions_task ON transitions (task_id);
CREATE TABLE IF NOT EXISTS task_logs (
  task_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS task_logs_task ON task_logs (task_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

interface TaskRow {
  data: string
  logs_dropped: number
}

export class TaskStore {
  private readonly db: Database.Database
  private readonly pendingTasks = new Map<string, Task>()
  private pendingTransitions: (TaskTransition & { taskId: string })[] = []
  private pendingLogs: (TaskLogLine & { taskId: string })[] = []
  private readonly pendingDropped = new Map<string, number>()
  /** Last stored status of unfinished tasks, to record transitions only when the status changes. */
  private readonly lastStatus = new Map<string, Task['status']>()
  /** Log lines per task so far (stored and pending), for the per-task bound. */
  private readonly logCounts = new Map<string, number>()
  private readonly skipped = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  private readonly maxLogLines: number
  private readonly now: () => number
  private lastPrunedAt: number | null = null
  private readonly statements

  constructor(private readonly options: StoreOptions) {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 })
    // It holds task payloads, env values included: 0600. SQLite gives the -wal and -shm files it creates
    // the database file's mode; ones left by a crash are narrowed here.
    ensurePrivateFile(options.file)
    for (const suffix of ['-wal', '-shm']) tightenFile(options.file + suffix)
    this.db = new Database(options.file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    this.db.pragma('journal_mode = WAL')
    // WAL + NORMAL: a commit survives the process being killed; only an OS crash can lose the last commits.
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(SCHEMA)
    this.maxLogLines = options.maxLogLines ?? 1000
    this.now = options.now ?? Date.now
    this.statements = {
      upsert: this.db.prepare(
        `INSERT INTO tasks (id, status, created_at, finished_at, data) VALUES (@id, @status, @createdAt, @finishedAt, @data)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at, data = excluded.data`,
      ),
      transition: this.db.prepare(
        'INSERT INTO transitions (task_id, at, status, agent_id, attempt, error) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      log: this.db.prepare('INSERT INTO task_logs (task_id, at, level, message) VALUES (?, ?, ?, ?)'),
      logCount: this.db.prepare(
        'UPDATE tasks SET log_count = log_count + ?, logs_dropped = logs_dropped + ? WHERE id = ?',
      ),
      get: this.db.prepare<[string], TaskRow>('SELECT data, logs_dropped FROM tasks WHERE id = ?'),
      transitions: this.db.prepare<
        [string],
        { at: number; status: Task['status']; agent_id: string | null; attempt: number; error: string | null }
      >('SELECT at, status, agent_id, attempt, error FROM transitions WHERE task_id = ? ORDER BY rowid'),
      logs: this.db.prepare<[string], TaskLogLine>(
        'SELECT at, level, message FROM task_logs WHERE task_id = ? ORDER BY rowid',
      ),
      meta: this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    }
  }

  /** Every stored task: finished ones as they ended, unfinished ones as last recorded. Oldest first. */
  loadTasks(): { task: Task; logCount: number }[] {
    const rows = this.db
      .prepare<[], { data: string; log_count: number }>('SELECT data, log_count FROM tasks ORDER BY created_at, rowid')
      .all()
    return rows.map((row) => {
      const task = JSON.parse(row.data) as Task
      this.logCounts.set(task.id, row.log_count)
      if (!isTerminal(task.status)) this.lastStatus.set(task.id, task.status)
      return { task, logCount: row.log_count }
    })
  }

  /** Takes a domain event; task changes and log lines are stored, the rest ignored. */
  record(event: DomainEvent): void {
    if (event.type === 'task:status') this.recordTask(event.task)
    else if (event.type === 'task:log' && event.taskId) this.recordLog(event.taskId, event)
  }

  private recordTask(task: Task): void {
    if (this.skipped.has(task.id)) {
      if (isTerminal(task.status)) this.skipped.delete(task.id)
      return
    }
    if (this.options.ephemeral?.(task)) {
      if (!isTerminal(task.status)) this.skipped.add(task.id)
      return
    }
    const isNew = !this.lastStatus.has(task.id) && !this.pendingTasks.has(task.id) && task.attempts === 0
    this.pendingTasks.set(task.id, task)
    if (this.lastStatus.get(task.id) !== task.status) {
      this.pendingTransitions.push({
        taskId: task.id,
        at: task.updatedAt,
        status: task.status,
        agentId: task.agentId,
        attempt: task.attempts,
        error: task.error,
      })
    }
    if (isTerminal(task.status)) this.lastStatus.delete(task.id)
    else this.lastStatus.set(task.id, task.status)
    // An accepted task is on disk before its submitter hears "queued".
    if (isNew) this.flush()
    else this.scheduleFlush()
  }

  private recordLog(taskId: string, line: TaskLogLine): void {
    if (this.skipped.has(taskId)) return
    const count = (this.logCounts.get(taskId) ?? 0) + 1
    this.logCounts.set(taskId, count)
    if (count <= this.maxLogLines) {
      this.pendingLogs.push({ taskId, at: line.at, level: line.level, message: line.message })
    } else {
      this.pendingDropped.set(taskId, (this.pendingDropped.get(taskId) ?? 0) + 1)
    }
    this.scheduleFlush()
  }

  /** Commits everything pending in one transaction. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (
      this.pendingTasks.size === 0 &&
      this.pendingTransitions.length === 0 &&
      this.pendingLogs.length === 0 &&
      this.pendingDropped.size === 0
    ) {
      return
    }
    const tasks = [...this.pendingTasks.values()]
    const transitions = this.pendingTransitions
    const logs = this.pendingLogs
    const dropped = new Map(this.pendingDropped)
    this.pendingDropped.clear()
    this.pendingTasks.clear()
    this.pendingTransitions = []
    this.pendingLogs = []
    const { upsert, transition, log, logCount } = this.statements
    this.db.transaction(() => {
      for (const task of tasks) {
        upsert.run({
          id: task.id,
          status: task.status,
          createdAt: task.createdAt,
          finishedAt: task.finishedAt,
          data: JSON.stringify(task),
        })
      }
      for (const t of transitions) transition.run(t.taskId, t.at, t.status, t.agentId, t.attempt, t.error)
      const added = new Map<string, { kept: number; dropped: number }>()
      for (const line of logs) {
        log.run(line.taskId, line.at, line.level, line.message)
        const counts = added.get(line.taskId) ?? { kept: 0, dropped: 0 }
        counts.kept++
        added.set(line.taskId, counts)
      }
      for (const [taskId, lines] of dropped) {
        const counts = added.get(taskId) ?? { kept: 0, dropped: 0 }
        counts.dropped += lines
        added.set(taskId, counts)
      }
      for (const [taskId, counts] of added) logCount.run(counts.kept, counts.dropped, taskId)
    })()
    for (const task of tasks) if (isTerminal(task.status)) this.logCounts.delete(task.id)
  }

  /** The task with its transitions and log lines, or undefined. */
  getDetail(taskId: string): TaskDetail | undefined {
    this.flush()
    const row = this.statements.get.get(taskId)
    if (!row) return undefined
    const transitions = this.statements.transitions.all(taskId).map((t) => ({
      at: t.at,
      status: t.status,
      agentId: t.agent_id,
      attempt: t.attempt,
      error: t.error,
    }))
    return {
      ...(JSON.parse(row.data) as Task),
      transitions,
      logs: this.statements.logs.all(taskId),
      logsDropped: row.logs_dropped,
    }
  }

  /** Deletes finished tasks past the retention policy; returns how many went. */
  prune(): number {
    this.flush()
    const { maxTasks, maxAgeMs } = this.options.retention
    const cutoff = this.now() - maxAgeMs
    const dropped = this.db.transaction(() => {
      const old = this.db
        .prepare<[number, number], { id: string }>(
          `SELECT id FROM tasks WHERE finished_at IS NOT NULL AND (finished_at < ? OR id NOT IN (
             SELECT id FROM tasks WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?))`,
        )
        .all(cutoff, maxTasks)
        .map((row) => row.id)
      const remove = ['tasks WHERE id', 'transitions WHERE task_id', 'task_logs WHERE task_id'].map((target) =>
        this.db.prepare(`DELETE FROM ${target} = ?`),
      )
      for (const id of old) for (const statement of remove) statement.run(id)
      const total = this.droppedTotal() + old.length
      this.statements.setMeta.run('retention_dropped_total', String(total))
      return old.length
    })()
    this.lastPrunedAt = this.now()
    return dropped
  }

  retention(): RetentionReport {
    return {
      ...this.options.retention,
      droppedTotal: this.droppedTotal(),
      lastPrunedAt: this.lastPrunedAt,
    }
  }

  private droppedTotal(): number {
    return Number(this.statements.meta.get('retention_dropped_total')?.value ?? 0)
  }

  private scheduleFlush(): void {
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.options.flushMs ?? 100)
  }

  close(): void {
    this.flush()
    this.db.close()
  }
}
