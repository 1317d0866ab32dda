import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Task } from '../../../src/shared/domain'
import type { DomainEvent } from '../../../src/shared/events'
import { TaskStore, type StoreOptions } from '../../../src/main/core/storage/task-store'

const DAY = 24 * 3600 * 1000
const stores: TaskStore[] = []
afterEach(() => {
  for (const store of stores.splice(0)) store.close()
  vi.useRealTimers()
})

function open(file: string, options: Partial<StoreOptions> = {}): TaskStore {
  const store = new TaskStore({ file, retention: { maxTasks: 1000, maxAgeMs: 30 * DAY }, ...options })
  stores.push(store)
  return store
}
const dbFile = () => join(mkdtempSync(join(tmpdir(), 'sm-store-')), 'swarm.db')

let seq = 0
function task(fields: Partial<Task> & Pick<Task, 'id'>): Task {
  return {
    name: fields.id,
    kind: 'shell',
    payload: { command: 'true' },
    priority: 0,
    capabilities: [],
    status: 'queued',
    agentId: null,
    attempts: 0,
    maxRetries: 0,
    timeoutMs: null,
    progress: 0,
    createdAt: 1000,
    updatedAt: 1000,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
    ...fields,
  }
}
const status = (t: Task): DomainEvent => ({ seq: ++seq, type: 'task:status', at: t.updatedAt, task: t })
const logLine = (taskId: string, message: string): DomainEvent => ({
  seq: ++seq,
  type: 'task:log',
  at: 2000,
  taskId,
  agentId: 'a',
  level: 'info',
  message,
})

describe('TaskStore', () => {
  it('loads the SQLite addon it is given instead of its own build', () => {
    // A copy elsewhere works like the original, so the path given is the one loaded; a file that is no addon fails.
    const addon = join(mkdtempSync(join(tmpdir(), 'sm-addon-')), 'better_sqlite3.node')
    copyFileSync(join(__dirname, '../../../node_modules/better-sqlite3/build/Release/better_sqlite3.node'), addon)
    const file = dbFile()
    open(file, { nativeBinding: addon }).record(status(task({ id: 'on-the-copy' })))
    expect(
      open(file)
        .loadTasks()
        .map((row) => row.task.id),
    ).toEqual(['on-the-copy'])
    // Another file: overwriting the loaded addon would pull its code from under this process.
    const bogus = join(mkdtempSync(join(tmpdir(), 'sm-addon-')), 'better_sqlite3.node')
    writeFileSync(bogus, 'not an addon')
    expect(() => open(dbFile(), { nativeBinding: bogus })).toThrow(/invalid ELF header|better_sqlite3\.node/)
  })

  it('commits an accepted task at once, before any timer runs', () => {
    vi.useFakeTimers()
    const file = dbFile()
    const store = open(file)
    store.record(status(task({ id: 't1' })))
    // A second connection sees it without the first flushing on a timer or closing.
    const reader = open(file)
    expect(reader.loadTasks().map((row) => row.task.id)).toEqual(['t1'])
  })

  it('keeps the latest state, each status change once, and log lines, across a reopen', () => {
    const file = dbFile()
    const store = open(file)
    const t = task({ id: 't1' })
    store.record(status(t))
    store.record(status({ ...t, status: 'assigned', agentId: 'a', attempts: 1, updatedAt: 1100 }))
    store.record(status({ ...t, status: 'running', agentId: 'a', attempts: 1, updatedAt: 1200 }))
    store.record(status({ ...t, status: 'running', agentId: 'a', attempts: 1, progress: 0.5, updatedAt: 1300 }))
    store.record(logLine('t1', 'hello'))
    store.record(
      status({
        ...t,
        status: 'succeeded',
        agentId: 'a',
        attempts: 1,
        progress: 1,
        finishedAt: 1400,
        updatedAt: 1400,
        result: { exitCode: 0 },
      }),
    )
    store.close()
    stores.splice(stores.indexOf(store), 1)

    const reopened = open(file)
    const detail = reopened.getDetail('t1')!
    expect(detail).toMatchObject({ status: 'succeeded', result: { exitCode: 0 }, logsDropped: 0 })
    expect(detail.transitions.map((tr) => tr.status)).toEqual(['queued', 'assigned', 'running', 'succeeded'])
    expect(detail.logs).toEqual([{ at: 2000, level: 'info', message: 'hello' }])
    expect(reopened.getDetail('nope')).toBeUndefined()
  })

  it('keeps at most maxLogLines per task and counts the rest', () => {
    const store = open(dbFile(), { maxLogLines: 10 })
    store.record(status(task({ id: 't1' })))
    for (let i = 0; i < 25; i++) store.record(logLine('t1', `line ${i}`))
    const detail = store.getDetail('t1')!
    expect(detail.logs.map((line) => line.message)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`))
    expect(detail.logsDropped).toBe(15)
  })

  it('does not store ephemeral tasks or their logs', () => {
    const store = open(dbFile(), { ephemeral: (t) => t.kind === 'demo' })
    store.record(status(task({ id: 'd1', kind: 'demo' })))
    store.record(logLine('d1', 'pretend'))
    store.record(status(task({ id: 't1' })))
    expect(store.loadTasks().map((row) => row.task.id)).toEqual(['t1'])
  })

  it('prunes finished tasks beyond the count and the age, keeps unfinished ones, and reports the total dropped', () => {
    let now = 100 * DAY
    const store = open(dbFile(), { retention: { maxTasks: 3, maxAgeMs: 10 * DAY }, now: () => now })
    for (let i = 0; i < 6; i++) {
      const finishedAt = now - (6 - i) * DAY
      store.record(
        status(task({ id: `done-${i}`, status: 'succeeded', attempts: 1, finishedAt, updatedAt: finishedAt })),
      )
    }
    store.record(status(task({ id: 'old-but-queued', createdAt: 1 })))
    store.record(logLine('done-0', 'gone with its task'))
    expect(store.prune()).toBe(3)
    expect(
      store
        .loadTasks()
        .map((row) => row.task.id)
        .sort(),
    ).toEqual(['done-3', 'done-4', 'done-5', 'old-but-queued'])
    now += 8.5 * DAY
    expect(store.prune()).toBe(2) // done-3 and done-4 are now older than 10 days, done-5 is not
    expect(store.retention()).toMatchObject({ maxTasks: 3, droppedTotal: 5, lastPrunedAt: now })
    expect(store.getDetail('done-0')).toBeUndefined()
  })
})
