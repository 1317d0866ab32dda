/**
 * The SQLite history's searches, run off the server's thread. better-sqlite3
 * is synchronous: a search over a million tasks that matches half of them
 * takes a second or more, and on the server's own thread that second would
 * hold every viewer, agent and heartbeat. So searches, log pages and export
 * pages run on worker threads, each with its own connection to the same file
 * (WAL: readers see every commit made before their query and never block the
 * writer). Writes, restores and a task's detail stay on the server's
 * connection.
 *
 * A query that runs past `timeoutMs` is answered with an error and its
 * worker replaced (SQLite finishes the step it is in, then the thread ends).
 * Where no worker can start (a build without worker threads, an addon that
 * will not load twice), reads fall back to the server's thread, said once in
 * the log.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

export interface ReaderOptions {
  file: string
  /** better-sqlite3's addon to load instead of its own build (the desktop app's). */
  nativeBinding?: string
  /** Worker threads; default 2. */
  workers?: number
  /** A query that takes longer is stopped; default 15 s (as PostgreSQL's query timeout). */
  timeoutMs?: number
}

/** Plain CommonJS: a worker's code is not bundled, so it takes better-sqlite3 by the path the server resolved. */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const options = { fileMustExist: true }
if (workerData.nativeBinding) options.nativeBinding = workerData.nativeBinding
const db = new Database(workerData.file, options)
db.pragma('query_only = ON')
const statements = new Map()
parentPort.on('message', ({ id, sql, params }) => {
  try {
    let statement = statements.get(sql)
    if (!statement) {
      if (statements.size >= 64) statements.clear()
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    parentPort.postMessage({ id, rows: statement.all(params) })
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) })
  }
})
parentPort.postMessage({ ready: true })
`

interface Job {
  sql: string
  params: readonly unknown[]
  resolve(rows: unknown[]): void
  reject(error: Error): void
  timer: NodeJS.Timeout
}

interface Slot {
  worker: Worker
  jobs: Map<number, Job>
}

type Answer = { ready: true } | { id: number; rows: unknown[] } | { id: number; error: string }

export class SqliteReader {
  private readonly slots: (Slot | null)[]
  private readonly timeoutMs: number
  private next = 1
  private closed = false
  /** Why workers cannot run here, once found out; reads then go to `fallback`. */
  private broken: string | null = null

  constructor(
    private readonly options: ReaderOptions,
    /** Runs a read on the server's own connection, when no worker can. */
    private readonly fallback: (sql: string, params: readonly unknown[]) => unknown[],
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.slots = Array.from({ length: Math.max(1, options.workers ?? 2) }, () => null)
    this.timeoutMs = options.timeoutMs ?? 15_000
  }

  /** The rows of one SELECT, read on a worker. */
  all(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error('the history database is closed'))
    if (this.broken !== null) return Promise.resolve().then(() => this.fallback(sql, params))
    // The least busy worker; a new one in an empty place.
    let index = 0
    for (let i = 0; i < this.slots.length; i++) {
      const size = this.slots[i]?.jobs.size ?? -1
      if (size < (this.slots[index]?.jobs.size ?? -1)) index = i
    }
    const slot = this.slots[index] ?? this.start(index)
    if (!slot) return Promise.resolve().then(() => this.fallback(sql, params))
    const id = this.next++
    return new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stop(index, new Error(`the query took longer than ${this.timeoutMs / 1000} s and was stopped`))
      }, this.timeoutMs)
      slot.jobs.set(id, { sql, params, resolve, reject, timer })
      slot.worker.postMessage({ id, sql, params })
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((slot, i) => slot && this.stop(i, new Error('the history database is closed'))))
  }

  private start(index: number): Slot | null {
    let worker: Worker
    try {
      const module = createRequire(__filename).resolve('better-sqlite3')
      const { file, nativeBinding } = this.options
      worker = new Worker(WORKER_CODE, {
        eval: true,
        workerData: { module, file, nativeBinding },
        // A small young generation: each page is garbage once sent, so it is collected early, not piled up.
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
      })
    } catch (error) {
      this.giveUp(error)
      return null
    }
    // Waiting queries keep the process up; an idle reader does not.
    worker.unref()
    const slot: Slot = { worker, jobs: new Map() }
    this.slots[index] = slot
    let ready = false
    worker.on('message', (answer: Answer) => {
      if ('ready' in answer) {
        ready = true
        return
      }
      const job = slot.jobs.get(answer.id)
      if (!job) return
      slot.jobs.delete(answer.id)
      clearTimeout(job.timer)
      if ('error' in answer) job.reject(new Error(answer.error))
      else job.resolve(answer.rows)
    })
    worker.on('error', (error) => {
      if (this.slots[index] === slot) this.slots[index] = null
      if (ready) return this.fail(slot, error)
      // A worker that could not even open the file: this machine or build cannot read on workers.
      this.giveUp(error)
      for (const job of slot.jobs.values()) {
        clearTimeout(job.timer)
        try {
          job.resolve(this.fallback(job.sql, job.params))
        } catch (failed) {
          job.reject(failed instanceof Error ? failed : new Error(String(failed)))
        }
      }
      slot.jobs.clear()
    })
    worker.on('exit', () => {
      if (this.slots[index] === slot) this.slots[index] = null
      this.fail(slot, new Error('the history reader stopped'))
    })
    return slot
  }

  private async stop(index: number, why: Error): Promise<void> {
    const slot = this.slots[index]
    if (!slot) return
    this.slots[index] = null
    this.fail(slot, why)
    await slot.worker.terminate()
  }

  private fail(slot: Slot, why: Error): void {
    for (const job of slot.jobs.values()) {
      clearTimeout(job.timer)
      job.reject(why)
    }
    slot.jobs.clear()
  }

  private giveUp(error: unknown): void {
    if (this.broken !== null) return
    this.broken = error instanceof Error ? error.message : String(error)
    this.warn(`searches of the history run on the server's thread (no worker thread could read it: ${this.broken})`)
  }
}
