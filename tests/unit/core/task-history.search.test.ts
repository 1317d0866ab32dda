/**
 * The TaskHistory contract, part two: searching what is stored — full text
 * over tasks and their log lines, the log query, the export's page-by-page
 * scan — run against both adapters, SQLite (FTS5) and PostgreSQL (tsvector),
 * which must find the same things.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Task } from '../../../src/shared/domain'
import { parseSearch, type SearchTerm } from '../../../src/shared/search'
import { HistoryQueryError, type TaskHistory } from '../../../src/main/core/storage/history'
import { createHistory, type BackendOptions } from '../../../src/main/core/storage/open-history'
import type { HistoryOptions } from '../../../src/main/core/storage/buffered-history'
import { postgresFixture, sqliteFixture, status, task, type TestDatabase } from '../../helpers/histories'
import type { SwarmChange } from '../../../src/shared/events'

const DAY = 24 * 3600 * 1000

/** Parsed terms of a query the test knows to be valid. */
function terms(q: string): SearchTerm[] {
  const parsed = parseSearch(q)
  if (!parsed.ok) throw new Error(parsed.problem)
  return parsed.terms
}

const line = (
  taskId: string,
  message: string,
  fields: Partial<{ agentId: string; at: number; level: 'info' | 'warn' | 'error' | 'debug' }> = {},
): SwarmChange => ({
  type: 'task:log',
  at: fields.at ?? 5000,
  taskId,
  agentId: fields.agentId ?? 'a1',
  level: fields.level ?? 'info',
  message,
})

describe.each([sqliteFixture(), postgresFixture()])('TaskHistory search on $name', (backend) => {
  beforeAll(() => backend.setup(), 30_000)
  afterAll(() => backend.teardown())

  const open: TaskHistory[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((history) => history.close()))
  })

  async function history(db: TestDatabase, options: Partial<HistoryOptions> & BackendOptions = {}) {
    const made = createHistory(db.target, {
      retention: { maxTasks: 100_000, maxAgeMs: 3650 * DAY },
      flushMs: 60_000,
      ...options,
    })
    open.push(made)
    await made.open()
    return made
  }

  const ids = (tasks: readonly Task[]) => tasks.map((t) => t.id)
  const find = async (h: TaskHistory, q: string, extra: object = {}) =>
    ids((await h.list({ limit: 100, search: terms(q), ...extra })).tasks)

  /** Five tasks with words in each searchable place, created 1000, 2000, … ms. */
  async function corpus(): Promise<TaskHistory> {
    const h = await history(await backend.database())
    const made: Task[] = [
      task({ id: 't-alpha', name: 'Nightly backup of the Orders database', kind: 'backup', createdAt: 1000 }),
      task({
        id: 't-beta',
        name: 'resize images',
        kind: 'images',
        payload: { bucket: 'holiday-photos', size: 42 },
        createdAt: 2000,
      }),
      task({
        id: 't-gamma',
        name: 'send invoices',
        kind: 'mail',
        status: 'failed',
        agentId: 'a2',
        attempts: 1,
        error: 'SMTP relay refused: quota exceeded',
        finishedAt: 3500,
        createdAt: 3000,
      }),
      task({
        id: 't-delta',
        name: 'compile report',
        kind: 'report',
        status: 'succeeded',
        agentId: 'a1',
        attempts: 1,
        result: { rows: 1200, file: '/srv/reports/weekly-summary.pdf' },
        finishedAt: 4500,
        createdAt: 4000,
      }),
      task({ id: 't-epsilon', name: 'Backup the photos', kind: 'backup', createdAt: 5000 }),
    ]
    for (const t of made) h.record(status(t))
    h.record(line('t-beta', 'thumbnail generation took 3.2 s for café.png', { at: 2100, agentId: 'a1' }))
    h.record(line('t-gamma', 'connecting to smtp.example.org:587', { at: 3100, agentId: 'a2', level: 'debug' }))
    h.record(line('t-gamma', 'relay said 552: mailbox over quota', { at: 3200, agentId: 'a2', level: 'error' }))
    h.record(line('t-delta', 'wrote 1200 rows', { at: 4100, agentId: 'a1', level: 'info' }))
    return h
  }

  it('finds tasks by words in their name, kind, error, result, payload, id and log lines, newest first', async () => {
    const h = await corpus()
    expect(await find(h, 'backup')).toEqual(['t-epsilon', 't-alpha'])
    expect(await find(h, 'BACKUP orders')).toEqual(['t-alpha']) // every word, any case
    expect(await find(h, 'quota')).toEqual(['t-gamma']) // the error, and a log line
    expect(await find(h, 'weekly')).toEqual(['t-delta']) // inside the result's JSON
    expect(await find(h, 'holiday')).toEqual(['t-beta']) // inside the payload's JSON
    expect(await find(h, 'thumbnail')).toEqual(['t-beta']) // only in a log line
    expect(await find(h, 'café')).toEqual(['t-beta'])
    expect(await find(h, 't-delta')).toEqual(['t-delta']) // the id, as the phrase "t delta"
    expect(await find(h, 'mailbox')).toEqual(['t-gamma'])
    expect(await find(h, 'nothing-like-this')).toEqual([])
  })

  it('matches whole words, phrases in order, and prefixes ending in *', async () => {
    const h = await corpus()
    expect(await find(h, 'back')).toEqual([])
    expect(await find(h, 'back*')).toEqual(['t-epsilon', 't-alpha'])
    expect(await find(h, '"orders database"')).toEqual(['t-alpha'])
    expect(await find(h, '"database orders"')).toEqual([])
    expect(await find(h, '"relay ref"*')).toEqual(['t-gamma'])
    expect(await find(h, 'weekly-summary')).toEqual(['t-delta'])
    // What a full-text engine would read as syntax is words here.
    expect(await find(h, 'backup OR images')).toEqual([])
    expect(await find(h, 'NEAR(backup orders) AND "unclosed')).toEqual([])
    expect(await find(h, '-backup ^orders')).toEqual(['t-alpha'])
  })

  it('combines the words with status, kind, agent and a creation window, and counts every match', async () => {
    const h = await corpus()
    expect(await find(h, 'backup', { kind: 'backup', since: 2000 })).toEqual(['t-epsilon'])
    expect(await find(h, 'backup', { until: 5000 })).toEqual(['t-alpha'])
    expect(await find(h, 'quota', { status: ['failed', 'timed_out'], agentId: 'a2' })).toEqual(['t-gamma'])
    expect(await find(h, 'quota', { status: 'succeeded' })).toEqual([])
    expect(ids((await h.list({ limit: 10, kind: 'backup' })).tasks)).toEqual(['t-epsilon', 't-alpha'])
    expect(ids((await h.list({ limit: 10, since: 2000, until: 4001 })).tasks)).toEqual(['t-delta', 't-gamma', 't-beta'])

    const first = await h.list({ limit: 1, search: terms('back*') })
    expect(first).toMatchObject({ total: 2, tasks: [{ id: 't-epsilon' }], next: expect.any(String) })
    const second = await h.list({ limit: 1, search: terms('back*'), cursor: first.next! })
    expect(second).toMatchObject({ total: 2, tasks: [{ id: 't-alpha' }], next: null })
  })

  it('searches the latest state: a changed error is found by its new words only', async () => {
    const h = await history(await backend.database())
    const t = task({ id: 't1', status: 'queued', error: 'requeued: agent kestrel left' })
    h.record(status(t))
    expect(await find(h, 'kestrel')).toEqual(['t1'])
    h.record(status({ ...t, status: 'failed', attempts: 1, error: 'disk full on falcon', finishedAt: 2000 }))
    expect(await find(h, 'kestrel')).toEqual([])
    expect(await find(h, 'falcon')).toEqual(['t1'])
  })

  it('lists log lines newest first, by task, agent, levels, time and words, page by page', async () => {
    const h = await corpus()
    const all = await h.logs({ limit: 10 })
    expect(all.lines.map((l) => l.message)).toEqual([
      'wrote 1200 rows',
      'relay said 552: mailbox over quota',
      'connecting to smtp.example.org:587',
      'thumbnail generation took 3.2 s for café.png',
    ])
    expect(all.next).toBeNull()
    expect(all.lines[1]).toEqual({
      id: expect.any(Number),
      taskId: 't-gamma',
      agentId: 'a2',
      at: 3200,
      level: 'error',
      message: 'relay said 552: mailbox over quota',
    })
    const messages = async (query: object) => (await h.logs({ limit: 10, ...query })).lines.map((l) => l.message)
    expect(await messages({ taskId: 't-gamma', levels: ['error', 'warn'] })).toEqual([
      'relay said 552: mailbox over quota',
    ])
    expect(await messages({ agentId: 'a1' })).toEqual([
      'wrote 1200 rows',
      'thumbnail generation took 3.2 s for café.png',
    ])
    expect(await messages({ since: 3100, until: 4100 })).toEqual([
      'relay said 552: mailbox over quota',
      'connecting to smtp.example.org:587',
    ])
    expect(await messages({ search: terms('smtp example') })).toEqual(['connecting to smtp.example.org:587'])
    expect(await messages({ search: terms('quota'), agentId: 'a1' })).toEqual([])

    const byPage: string[][] = []
    let cursor: string | undefined
    do {
      const page = await h.logs({ limit: 3, cursor })
      byPage.push(page.lines.map((l) => l.message.split(' ')[0]!))
      cursor = page.next ?? undefined
    } while (cursor && byPage.length < 5)
    expect(byPage).toEqual([['wrote', 'relay', 'connecting'], ['thumbnail']])
    await expect(h.logs({ limit: 3, cursor: 'x' })).rejects.toBeInstanceOf(HistoryQueryError)
  })

  it('scans every match newest first, a page at a time', async () => {
    const h = await history(await backend.database())
    for (let i = 0; i < 1203; i++) {
      h.record(status(task({ id: `t${i}`, kind: i % 3 === 0 ? 'odd' : 'even', createdAt: 10_000 + i })))
    }
    const sizes: number[] = []
    const seen: string[] = []
    for await (const page of h.scan({ kind: 'odd' }, 100)) {
      sizes.push(page.length)
      seen.push(...ids(page))
    }
    expect(sizes).toEqual([100, 100, 100, 100, 1])
    expect(seen).toEqual(Array.from({ length: 401 }, (_, i) => `t${1200 - i * 3}`))
    const none: Task[][] = []
    for await (const page of h.scan({ search: terms('absent') })) none.push(page)
    expect(none).toEqual([])
  })

  it('forgets pruned tasks and their lines in the search too', async () => {
    let now = 100 * DAY
    const h = await history(await backend.database(), {
      retention: { maxTasks: 1, maxAgeMs: 10 * DAY },
      now: () => now,
    })
    h.record(
      status(task({ id: 'old', name: 'ancient heron', status: 'succeeded', attempts: 1, finishedAt: now - DAY })),
    )
    h.record(line('old', 'heron says hello'))
    h.record(status(task({ id: 'new', name: 'young heron', status: 'succeeded', attempts: 1, finishedAt: now })))
    now += DAY
    expect(await h.prune()).toBe(1)
    expect(await find(h, 'heron')).toEqual(['new'])
    expect(await find(h, 'ancient')).toEqual([])
    expect((await h.logs({ limit: 10, search: terms('heron') })).lines).toEqual([])
  })

  it('answers hostile queries with results, never a database error: the engine only ever sees words', async () => {
    const h = await corpus()
    const hostile = [
      'NEAR(backup orders, 2)',
      '"unclosed phrase',
      'backup AND OR NOT',
      'body:backup {body}: x',
      "'; DROP TABLE tasks; --",
      "backup & orders | !x <-> y:* ('z')",
      '((( ))) ^ + -',
      'café ÄÖÜ \u202e 日本語',
      'x'.repeat(200),
      'ab* a* "a b"* "c d',
    ]
    for (const q of hostile) {
      const parsed = parseSearch(q)
      if (!parsed.ok) continue
      await expect(h.list({ limit: 5, search: parsed.terms }), q).resolves.toMatchObject({ total: expect.any(Number) })
      await expect(h.logs({ limit: 5, search: parsed.terms }), q).resolves.toMatchObject({ lines: expect.any(Array) })
    }
    expect(await find(h, "backup'; DROP TABLE tasks; --")).toEqual([])
    expect(await find(h, 'backup')).toEqual(['t-epsilon', 't-alpha'])
  })

  it('brings a version 2 database to version 3 with its tasks and lines searchable, each line with its agent', async () => {
    const db = await backend.database()
    await (await history(db, { targetVersion: 2 })).close()
    expect(await db.schemaVersion()).toBe(2)
    const t = task({
      id: 'v2-task',
      name: 'legacy ibis job',
      kind: 'ibis',
      status: 'running',
      agentId: 'a7',
      attempts: 1,
    })
    await db.raw('INSERT INTO tasks (id, status, created_at, finished_at, agent_id, data) VALUES (?, ?, ?, ?, ?, ?)', [
      t.id,
      t.status,
      t.createdAt,
      null,
      t.agentId,
      JSON.stringify(t),
    ])
    await db.raw('INSERT INTO task_logs (task_id, at, level, message) VALUES (?, ?, ?, ?)', [
      t.id,
      1500,
      'warn',
      'the ibis flew off (wings.flap)',
    ])
    const h = await history(db)
    expect(await db.schemaVersion()).toBeGreaterThanOrEqual(3)
    expect(await find(h, 'legacy')).toEqual(['v2-task'])
    expect(await find(h, 'flap')).toEqual(['v2-task'])
    expect(ids((await h.list({ limit: 5, kind: 'ibis' })).tasks)).toEqual(['v2-task'])
    expect((await h.logs({ limit: 5, agentId: 'a7' })).lines).toMatchObject([
      { taskId: 'v2-task', agentId: 'a7', level: 'warn', message: 'the ibis flew off (wings.flap)' },
    ])
    // Later lines and changes are indexed as they are written.
    h.record(line('v2-task', 'landed safely', { agentId: 'a8' }))
    expect((await h.logs({ limit: 5, search: terms('landed') })).lines).toMatchObject([{ agentId: 'a8' }])
  })
})
