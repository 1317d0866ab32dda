/**
 * The history's write discipline, the same over every backend: changes are
 * gathered (recorder.ts) and committed together every `flushMs`, except that
 * a newly accepted task is committed at once, and `durable(id)` resolves when
 * the commit holding it is done. One commit is in flight at a time, so rows
 * reach the database in the order the events came, and what is recorded
 * meanwhile goes in the next one (many submits, one commit).
 *
 * A failed commit puts its changes back, marks the history unavailable (the
 * submit path refuses new tasks, an alert is raised) and retries with backoff
 * until the database answers and takes them; nothing recorded is dropped
 * while the server runs. State changes in the last window before a crash may
 * be lost: such a task is found unfinished at restart and requeued
 * (at-least-once).
 */
import type { Task, TaskDetail } from '../../../shared/domain'
import type { SwarmChange } from '../../../shared/events'
import type { Logger } from '../logger'
import type { HistoryBackend } from './backend'
import {
  HistoryQueryError,
  HistoryUnavailableError,
  type HistoryOutage,
  type HistoryPage,
  type HistoryQuery,
  type LogPage,
  type LogQuery,
  type OpenReport,
  type Restored,
  type RetentionPolicy,
  type RetentionReport,
  type TaskFilter,
  type TaskHistory,
} from './history'
import { deferred, oneLine, type Deferred } from './deferred'
import { Recorder } from './recorder'
import type { Batch } from './rows'

/** Finished tasks deleted by one transaction of a prune (`prune` repeats until fewer go). */
export const PRUNE_CHUNK = 2_000

export interface HistoryOptions {
  retention: RetentionPolicy
  /** Log lines kept per task; default 1,000. */
  maxLogLines?: number
  /** How long changes other than a new task wait to be committed together; default 100 ms. */
  flushMs?: number
  /** Tasks not to store (the demo swarm's synthetic ones). */
  ephemeral?: (task: Task) => boolean
  now?: () => number
  /** Delay before retrying a failed commit: the first, doubled each time up to the max; default 250 ms → 10 s. */
  retryMs?: { first: number; max: number }
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>
}

export class BufferedHistory implements TaskHistory {
  private readonly recorder: Recorder
  private readonly now: () => number
  private readonly retryMs: { first: number; max: number }
  private state: 'new' | 'open' | 'closed' = 'new'
  /** The commit in flight: the tasks it holds and its outcome. */
  private writing: { ids: Set<string>; done: Deferred } | null = null
  /** The outcome of the next commit, once someone waits for it. */
  private next: Deferred | null = null
  /** A commit was asked for while one was in flight. */
  private again = false
  private timer: NodeJS.Timeout | null = null
  private down: HistoryOutage | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private retryDelay: number
  private dropped = 0
  private lastPrunedAt: number | null = null

  constructor(
    private readonly backend: HistoryBackend,
    private readonly options: HistoryOptions,
  ) {
    this.recorder = new Recorder({ maxLogLines: options.maxLogLines ?? 1000, ephemeral: options.ephemeral })
    this.now = options.now ?? Date.now
    this.retryMs = options.retryMs ?? { first: 250, max: 10_000 }
    this.retryDelay = this.retryMs.first
  }

  async open(): Promise<OpenReport> {
    const report = await this.backend.open()
    this.dropped = await this.backend.droppedTotal()
    // One dropped idle connection (a server-side idle timeout) is not an outage: the database has to say so too.
    this.backend.onLost(() => void this.check())
    this.state = 'open'
    // Changes recorded before the database was open wait for it.
    if (this.recorder.hasPending) this.flush()
    return report
  }

  async restore(): Promise<Restored> {
    const rows = await this.backend.load()
    const tasks: Task[] = []
    const invalid: Restored['invalid'] = []
    for (const row of rows) {
      if (row.task) tasks.push(row.task)
      else invalid.push({ id: row.id, problem: row.problem ?? 'unreadable' })
    }
    this.recorder.prime(rows.flatMap((row) => (row.task ? [{ task: row.task, logCount: row.logCount }] : [])))
    // The database answered: an outage ends now rather than at its next retry, up to retryMs.max away (a cluster
    // node that takes the lead as PostgreSQL returns would refuse submissions meanwhile).
    if (this.down) this.retryNow()
    return { tasks, invalid }
  }

  record(event: SwarmChange): void {
    if (this.state === 'closed') return
    const urgency = this.recorder.take(event)
    if (urgency === 'now') this.flush()
    else if (urgency === 'soon') this.scheduleFlush()
  }

  durable(taskId: string): Promise<void> {
    if (this.recorder.holds(taskId)) {
      if (this.down) return Promise.reject(this.unavailable())
      const commit = this.nextCommit()
      this.flush()
      return commit
    }
    if (this.writing?.ids.has(taskId)) return this.writing.done.promise
    return Promise.resolve()
  }

  outage(): HistoryOutage | null {
    return this.down && { ...this.down }
  }

  async detail(taskId: string): Promise<TaskDetail | undefined> {
    await this.settle()
    return this.read(() => this.backend.detail(taskId))
  }

  async list(query: HistoryQuery): Promise<HistoryPage> {
    await this.settle()
    const [total, page] = await this.read(() => Promise.all([this.backend.count(query), this.backend.page(query)]))
    return { ...page, total }
  }

  async *scan(filter: TaskFilter, pageSize = 500): AsyncGenerator<Task[], void, undefined> {
    await this.settle()
    // Page by page, each its own short query: nothing is held open between pages, and memory stays one page.
    let cursor: string | undefined
    do {
      const page = await this.read(() => this.backend.page({ ...filter, limit: pageSize, cursor }))
      if (page.tasks.length > 0) yield page.tasks
      cursor = page.next ?? undefined
    } while (cursor !== undefined)
  }

  async logs(query: LogQuery): Promise<LogPage> {
    await this.settle()
    return this.read(() => this.backend.logs(query))
  }

  async prune(): Promise<number> {
    await this.settle()
    const { maxTasks, maxAgeMs } = this.options.retention
    const now = this.now()
    // In chunks, each its own transaction, so that a retention lowered under a long history deletes in many short
    // steps (none near the query time limit, the server's thread free between them) rather than one long one.
    let dropped = 0
    for (;;) {
      const chunk = await this.read(() => this.backend.prune(now - maxAgeMs, maxTasks, PRUNE_CHUNK))
      dropped += chunk.dropped
      this.dropped = chunk.total
      if (chunk.dropped < PRUNE_CHUNK) break
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    this.lastPrunedAt = now
    return dropped
  }

  retention(): RetentionReport {
    return { ...this.options.retention, droppedTotal: this.dropped, lastPrunedAt: this.lastPrunedAt }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    const wasOpen = this.state === 'open'
    if (this.timer) clearTimeout(this.timer)
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.timer = this.retryTimer = null
    if (wasOpen) {
      await this.settle().catch(() => {})
      if (this.recorder.hasPending) {
        this.options.logger?.error(
          { database: this.backend.database, error: this.down?.error },
          'the history database was unavailable at stop: the latest task changes were not written (unfinished tasks are requeued at the next start)',
        )
      }
    }
    this.state = 'closed'
    await this.backend.close()
  }

  // ---- commits ---------------------------------------------------------------

  private nextCommit(): Promise<void> {
    this.next ??= deferred()
    return this.next.promise
  }

  private scheduleFlush(): void {
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.options.flushMs ?? 100)
  }

  /** Starts a commit of everything pending, unless one is in flight (then it follows) or the database is down. */
  private flush(whileDown = false): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.state !== 'open' || (this.down && !whileDown)) return
    if (this.writing) {
      this.again = true
      return
    }
    if (!this.recorder.hasPending) {
      this.next?.resolve()
      this.next = null
      return
    }
    const batch = this.recorder.drain()
    const commit = { ids: new Set(batch.tasks.map((task) => task.id)), done: this.next ?? deferred() }
    for (const line of batch.logs) commit.ids.add(line.taskId)
    for (const transition of batch.transitions) commit.ids.add(transition.taskId)
    this.next = null
    this.writing = commit
    this.backend.write(batch).then(
      () => this.committed(batch, commit.done),
      (error: unknown) => this.failed(batch, commit.done, error),
    )
  }

  private committed(batch: Batch, done: Deferred): void {
    this.writing = null
    this.recorder.committed(batch)
    done.resolve()
    this.recovered()
    if (this.again || this.next) {
      this.again = false
      this.flush()
    }
  }

  private failed(batch: Batch, done: Deferred, error: unknown): void {
    this.writing = null
    this.again = false
    this.recorder.putBack(batch)
    this.fail(error)
    done.reject(this.unavailable())
  }

  /** Everything recorded so far is committed, or this throws `HistoryUnavailableError`. */
  private async settle(): Promise<void> {
    if (this.state !== 'open') throw new HistoryUnavailableError('the task history is not open')
    if (this.down) throw this.unavailable()
    if (this.recorder.hasPending) {
      const commit = this.nextCommit()
      this.flush()
      await commit
    } else if (this.writing) {
      await this.writing.done.promise
    }
  }

  private async read<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query()
    } catch (error) {
      if (error instanceof HistoryQueryError) throw error
      throw new HistoryUnavailableError(
        `the history database ${this.backend.database} could not answer: ${oneLine(error)}`,
      )
    }
  }

  // ---- outages ---------------------------------------------------------------

  private unavailable(): HistoryUnavailableError {
    const reason = this.down ? `: ${this.down.error}` : ''
    return new HistoryUnavailableError(`the history database ${this.backend.database} is unavailable${reason}`)
  }

  private fail(error: unknown): void {
    if (this.state === 'closed') return
    const message = oneLine(error)
    if (this.down) this.down.error = message
    else {
      this.down = { since: this.now(), error: message, database: this.backend.database }
      this.options.logger?.error(
        { database: this.backend.database, error: message },
        'the history database is unavailable: new tasks are refused (503) until it is back; reconnecting',
      )
    }
    // Whoever waits for the next commit hears now that it will not come soon.
    this.next?.reject(this.unavailable())
    this.next = null
    this.scheduleRetry()
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.state === 'closed') return
    const delay = this.retryDelay
    this.retryDelay = Math.min(this.retryDelay * 2, this.retryMs.max)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      void this.retry()
    }, delay)
    this.retryTimer.unref?.()
  }

  private retryNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    void this.retry()
  }

  private async check(): Promise<void> {
    if (this.state !== 'open' || this.down) return
    try {
      await this.backend.ping()
    } catch (error) {
      this.fail(error)
    }
  }

  private async retry(): Promise<void> {
    if (this.state !== 'open' || !this.down || this.writing) return
    try {
      await this.backend.ping()
    } catch (error) {
      this.fail(error)
      return
    }
    // Back: what waited goes first; the outage ends once it is committed.
    if (this.recorder.hasPending) this.flush(true)
    else this.recovered()
  }

  private recovered(): void {
    this.retryDelay = this.retryMs.first
    if (!this.down) return
    const seconds = Math.round((this.now() - this.down.since) / 1000)
    this.options.logger?.info(
      { database: this.backend.database, downForS: seconds },
      'the history database is back: new tasks are accepted again',
    )
    this.down = null
  }
}
