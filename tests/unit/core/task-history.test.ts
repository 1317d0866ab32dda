/**
 * The TaskHistory contract, run against every adapter: SQLite (a temp file)
 * and PostgreSQL (a real server this file starts, one database per test).
 * What a user sees must not depend on which one is configured.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HistoryOpenError, HistoryQueryError, type TaskHistory } from '../../../src/main/core/storage/history'
import { createHistory, type BackendOptions } from '../../../src/main/core/storage/open-history'
import type { HistoryOptions } from '../../../src/main/core/storage/buffered-history'
import { PRUNE_CHUNK } from '../../../src/main/core/storage/buffered-history'
import { logLine, postgresFixture, sqliteFixture, status, task, type TestDatabase } from '../../helpers/histories'

const DAY = 24 * 3600 * 1000

describe.each([sqliteFixture(), postgresFixture()])('TaskHistory on $name', (backend) => {
  beforeAll(() => backend.setup(), 30_000)
  afterAll(() => backend.teardown())

  const open: TaskHistory[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((history) => history.close()))
  })

  /** A history on `db`, opened; a long flush window unless a test asks, so only an immediate commit explains a row. */
  async function history(
    db: TestDatabase,
    options: Partial<HistoryOptions> & BackendOptions = {},
  ): Promise<TaskHistory> {
    const made = createHistory(db.target, {
      retention: { maxTasks: 1000, maxAgeMs: 30 * DAY },
      flushMs: 60_000,
      retryMs: { first: 20, max: 100 },
      ...options,
    })
    open.push(made)
    await made.open()
    return made
  }
  async function reopened(db: TestDatabase, first: TaskHistory, options: Partial<HistoryOptions> = {}) {
    await first.close()
    return history(db, options)
  }
  const ids = async (h: TaskHistory) => (await h.restore()).tasks.map((t) => t.id)

  it('commits an accepted task at once: durable() resolves when another connection can read it', async () => {
    const db = await backend.database()
    const writer = await history(db)
    writer.record(status(task({ id: 't1' })))
    await writer.durable('t1')
    // A second history on the same database, while the first is open and its flush timer far away.
    expect(await ids(await history(db))).toEqual(['t1'])
  })

  it('keeps the latest state, each status change once, and log lines, across a reopen', async () => {
    const db = await backend.database()
    const first = await history(db)
    const t = task({ id: 't1' })
    first.record(status(t))
    first.record(status({ ...t, status: 'assigned', agentId: 'a', attempts: 1, updatedAt: 1100 }))
    first.record(status({ ...t, status: 'running', agentId: 'a', attempts: 1, updatedAt: 1200 }))
    first.record(status({ ...t, status: 'running', agentId: 'a', attempts: 1, progress: 0.5, updatedAt: 1300 }))
    first.record(logLine('t1', 'hello'))
    const done = { ...t, status: 'succeeded' as const, agentId: 'a', attempts: 1, progress: 1 }
    first.record(status({ ...done, finishedAt: 1400, updatedAt: 1400, result: { exitCode: 0, out: ['x'] } }))

    const again = await reopened(db, first)
    const detail = (await again.detail('t1'))!
    expect(detail).toMatchObject({ status: 'succeeded', result: { exitCode: 0, out: ['x'] }, logsDropped: 0 })
    expect(detail.transitions).toEqual([
      { at: 1000, status: 'queued', agentId: null, attempt: 0, error: null },
      { at: 1100, status: 'assigned', agentId: 'a', attempt: 1, error: null },
      { at: 1200, status: 'running', agentId: 'a', attempt: 1, error: null },
      { at: 1400, status: 'succeeded', agentId: 'a', attempt: 1, error: null },
    ])
    expect(detail.logs).toEqual([{ at: 2000, level: 'info', message: 'hello' }])
    expect(await again.detail('nope')).toBeUndefined()
  })

  it("keeps a task's dependencies, workflow and cancelling dependency in its stored JSON", async () => {
    const db = await backend.database()
    const first = await history(db)
    const workflow = { id: 'w1', name: 'release', key: 'deploy' }
    first.record(status(task({ id: 't1', dependsOn: ['t0'], workflow })))
    first.record(status(task({ id: 't2', status: 'cancelled', dependsOn: ['t1'], cancelledByDependency: 't1' })))
    await first.durable('t2')
    const restored = (await (await reopened(db, first)).restore()).tasks
    expect(restored.find((t) => t.id === 't1')).toMatchObject({ dependsOn: ['t0'], workflow })
    expect(restored.find((t) => t.id === 't2')).toMatchObject({ dependsOn: ['t1'], cancelledByDependency: 't1' })
  })

  it('answers detail() with what was recorded a moment ago, not yet flushed by the timer', async () => {
    const h = await history(await backend.database())
    h.record(status(task({ id: 't1' })))
    h.record(status(task({ id: 't1', status: 'assigned', agentId: 'a', attempts: 1, updatedAt: 1100 })))
    h.record(logLine('t1', 'just now'))
    expect(await h.detail('t1')).toMatchObject({ status: 'assigned', logs: [{ message: 'just now' }] })
  })

  it('keeps at most maxLogLines per task and counts the rest, also across a reopen', async () => {
    const db = await backend.database()
    const first = await history(db, { maxLogLines: 10 })
    first.record(status(task({ id: 't1' })))
    for (let i = 0; i < 8; i++) first.record(logLine('t1', `line ${i}`))
    const again = await reopened(db, first, { maxLogLines: 10 })
    await again.restore()
    for (let i = 8; i < 25; i++) again.record(logLine('t1', `line ${i}`))
    const detail = (await again.detail('t1'))!
    expect(detail.logs.map((line) => line.message)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`))
    expect(detail.logsDropped).toBe(15)
  })

  it('does not store ephemeral tasks or their logs', async () => {
    const h = await history(await backend.database(), { ephemeral: (t) => t.kind === 'demo' })
    h.record(status(task({ id: 'd1', kind: 'demo' })))
    h.record(logLine('d1', 'pretend'))
    h.record(status(task({ id: 't1' })))
    await h.durable('d1')
    expect(await ids(h)).toEqual(['t1'])
    expect(await h.detail('d1')).toBeUndefined()
  })

  it('stores a log line or an error holding a NUL byte, and the rest of its commit', async () => {
    const h = await history(await backend.database())
    h.record(status(task({ id: 't1', error: 'bad\u0000error' })))
    h.record(logLine('t1', 'a\u0000b'))
    const detail = (await h.detail('t1'))!
    expect(detail.error).toBe('bad\u0000error')
    // PostgreSQL text cannot hold NUL: it becomes U+FFFD there.
    expect(['a\u0000b', 'a\uFFFDb']).toContain(detail.logs[0]!.message)
  })

  it('restores oldest first, unfinished tasks as last recorded', async () => {
    const db = await backend.database()
    const first = await history(db)
    first.record(status(task({ id: 'late', createdAt: 3000 })))
    first.record(status(task({ id: 'early', createdAt: 1000 })))
    first.record(status(task({ id: 'early', status: 'running', agentId: 'a', attempts: 1, createdAt: 1000 })))
    first.record(status(task({ id: 'same-ms', createdAt: 3000 })))
    const again = await reopened(db, first)
    const restored = await again.restore()
    expect(restored.tasks.map((t) => [t.id, t.status])).toEqual([
      ['early', 'running'],
      ['late', 'queued'],
      ['same-ms', 'queued'],
    ])
    expect(restored.invalid).toEqual([])
  })

  it('prunes finished tasks beyond the count and the age, keeps unfinished ones, and keeps the total dropped', async () => {
    const db = await backend.database()
    let now = 100 * DAY
    const retention = { maxTasks: 3, maxAgeMs: 10 * DAY }
    const h = await history(db, { retention, now: () => now })
    for (let i = 0; i < 6; i++) {
      const finishedAt = now - (6 - i) * DAY
      h.record(status(task({ id: `done-${i}`, status: 'succeeded', attempts: 1, finishedAt, updatedAt: finishedAt })))
    }
    h.record(status(task({ id: 'old-but-queued', createdAt: 1 })))
    h.record(logLine('done-0', 'gone with its task'))
    expect(await h.prune()).toBe(3)
    expect((await ids(h)).sort()).toEqual(['done-3', 'done-4', 'done-5', 'old-but-queued'])
    now += 8.5 * DAY
    expect(await h.prune()).toBe(2) // done-3 and done-4 are now older than 10 days, done-5 is not
    expect(h.retention()).toEqual({ ...retention, droppedTotal: 5, lastPrunedAt: now })
    expect(await h.detail('done-0')).toBeUndefined()
    expect(await db.raw('SELECT count(*) AS n FROM task_logs')).toEqual([{ n: expect.anything() }])
    expect(Number((await db.raw('SELECT count(*) AS n FROM task_logs'))[0]!.n)).toBe(0)
    const again = await reopened(db, h, { retention, now: () => now })
    expect(again.retention()).toMatchObject({ droppedTotal: 5, lastPrunedAt: null })
  })

  it('prunes a long history in chunks to exactly the newest tasks, those finished in the same ms as the last kept', async () => {
    const db = await backend.database()
    const now = 100 * DAY
    const retention = { maxTasks: 100, maxAgeMs: 10 * DAY }
    const h = await history(db, { retention, now: () => now })
    const count = PRUNE_CHUNK + 600
    for (let i = 0; i < count; i++) {
      const finishedAt = now - (count - i) // distinct ms, the newest last
      h.record(status(task({ id: `t-${i}`, status: 'failed', attempts: 1, finishedAt, updatedAt: finishedAt })))
    }
    // Two more finished in the same ms as the 100th newest: kept with it.
    const edge = now - 100
    for (const id of ['tie-a', 'tie-b']) {
      h.record(status(task({ id, status: 'succeeded', attempts: 1, finishedAt: edge, updatedAt: edge })))
    }
    expect(await h.prune()).toBe(count - 100)
    const kept = await ids(h)
    expect(kept).toHaveLength(102)
    expect(kept).toEqual(expect.arrayContaining(['tie-a', 'tie-b', `t-${count - 100}`, `t-${count - 1}`]))
    expect(kept).not.toContain(`t-${count - 101}`)
    expect(h.retention().droppedTotal).toBe(count - 100)
    expect(await h.prune()).toBe(0)
  })

  it('lists newest first, filtered by status and agent, page by page', async () => {
    const h = await history(await backend.database())
    for (let i = 0; i < 7; i++) {
      const running = i % 2 === 0
      h.record(status(task({ id: `t${i}`, createdAt: 1000 + Math.floor(i / 2) })))
      if (running)
        h.record(
          status(
            task({ id: `t${i}`, createdAt: 1000 + Math.floor(i / 2), status: 'running', agentId: 'a1', attempts: 1 }),
          ),
        )
    }
    const all = await h.list({ limit: 3 })
    expect(all).toMatchObject({ total: 7, tasks: [{ id: 't6' }, { id: 't5' }, { id: 't4' }] })
    const second = await h.list({ limit: 3, cursor: all.next! })
    const third = await h.list({ limit: 3, cursor: second.next! })
    expect([...second.tasks, ...third.tasks].map((t) => t.id)).toEqual(['t3', 't2', 't1', 't0'])
    expect(third.next).toBeNull()
    const running = await h.list({ limit: 10, status: 'running', agentId: 'a1' })
    expect(running).toMatchObject({ total: 4, next: null })
    expect(running.tasks.map((t) => t.id)).toEqual(['t6', 't4', 't2', 't0'])
    expect(await h.list({ limit: 10, agentId: 'nobody' })).toEqual({ tasks: [], total: 0, next: null })
    await expect(h.list({ limit: 3, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(HistoryQueryError)
  })

  it('reads rows back through their schema: a damaged one is named at restore and left alone', async () => {
    const db = await backend.database()
    const h = await history(db)
    h.record(status(task({ id: 'good' })))
    h.record(status(task({ id: 'bad' })))
    await h.durable('bad')
    await db.raw('UPDATE tasks SET data = ? WHERE id = ?', ['{"id":"bad","status":"exploded"}', 'bad'])
    const restored = await (await reopened(db, h)).restore()
    expect(restored.tasks.map((t) => t.id)).toEqual(['good'])
    expect(restored.invalid).toEqual([{ id: 'bad', problem: expect.stringContaining('status') }])
    expect(await db.raw('SELECT id FROM tasks WHERE id = ?', ['bad'])).toHaveLength(1)
  })

  it('creates a new database at the latest schema version, and migrates one at version 1 forward', async () => {
    const fresh = await backend.database()
    const latest = (await history(fresh)).open
    expect(latest).toBeDefined()
    const latestVersion = await fresh.schemaVersion()
    expect(latestVersion).toBeGreaterThanOrEqual(2)

    const db = await backend.database()
    const old = await history(db, { targetVersion: 1 })
    await old.close()
    expect(await db.schemaVersion()).toBe(1)
    // A task as version 1 stored it: no agent column yet.
    const t = task({ id: 'from-v1', status: 'running', agentId: 'a9', attempts: 1 })
    await db.raw('INSERT INTO tasks (id, status, created_at, finished_at, data) VALUES (?, ?, ?, ?, ?)', [
      t.id,
      t.status,
      t.createdAt,
      null,
      JSON.stringify(t),
    ])
    const migrated = createHistory(db.target, { retention: { maxTasks: 10, maxAgeMs: DAY } })
    open.push(migrated)
    expect(await migrated.open()).toMatchObject({ migratedFrom: 1, schemaVersion: latestVersion })
    expect(await db.schemaVersion()).toBe(latestVersion)
    expect((await migrated.list({ limit: 5, agentId: 'a9' })).tasks.map((x) => x.id)).toEqual(['from-v1'])
  })

  it('refuses a database newer than this program, with exit code 2, and leaves it as it was', async () => {
    const db = await backend.database()
    await (await history(db)).close()
    const latest = await db.schemaVersion()
    await db.setSchemaVersion(latest + 1)
    const newer = createHistory(db.target, { retention: { maxTasks: 10, maxAgeMs: DAY } })
    open.push(newer)
    const refused = await newer.open().catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(HistoryOpenError)
    expect(refused).toMatchObject({ exitCode: 2 })
    expect((refused as Error).message).toMatch(
      new RegExp(`schema version ${latest + 1}, newer than this program knows \\(${latest}\\)`),
    )
    expect(await db.schemaVersion()).toBe(latest + 1)
  })

  it('when a commit fails: durable() rejects, outage() says why, nothing is lost, and it recovers by itself', async () => {
    const db = await backend.database()
    const h = await history(db)
    h.record(status(task({ id: 'before' })))
    await h.durable('before')
    await db.breakWrites()
    h.record(status(task({ id: 'during' })))
    await expect(h.durable('during')).rejects.toThrow(/is unavailable: .*disk on fire/)
    expect(h.outage()).toMatchObject({ error: expect.stringContaining('disk on fire'), since: expect.any(Number) })
    // Changes go on being recorded meanwhile; a new task waits for the database (refused by the submit path).
    h.record(status(task({ id: 'during', status: 'cancelled', finishedAt: 1500, updatedAt: 1500, error: 'gone' })))
    await expect(h.durable('during')).rejects.toThrow(/unavailable/)
    await expect(h.detail('before')).rejects.toThrow(/unavailable/)
    await db.fixWrites()
    const deadline = Date.now() + 5000
    while (h.outage() !== null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(h.outage()).toBeNull()
    expect(await h.detail('during')).toMatchObject({
      status: 'cancelled',
      transitions: [{ status: 'queued' }, { status: 'cancelled', error: 'gone' }],
    })
  })

  it('ends an outage once a restore has read the database, not at the next retry (a cluster node taking the lead)', async () => {
    const db = await backend.database()
    const h = await history(db, { retryMs: { first: 60_000, max: 60_000 } })
    await db.breakWrites()
    h.record(status(task({ id: 'during' })))
    await expect(h.durable('during')).rejects.toThrow(/unavailable/)
    await db.fixWrites()
    await h.restore()
    const deadline = Date.now() + 2000
    while (h.outage() !== null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(h.outage()).toBeNull()
    expect(await h.detail('during')).toMatchObject({ status: 'queued' })
  })

  it('writes what is pending when closed', async () => {
    const db = await backend.database()
    const h = await history(db)
    h.record(status(task({ id: 't1' })))
    h.record(logLine('t1', 'last words'))
    const again = await reopened(db, h)
    expect((await again.detail('t1'))!.logs.map((line) => line.message)).toEqual(['last words'])
  })
})
