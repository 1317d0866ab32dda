/**
 * What only the SQLite adapter has: the addon it may be handed (Electron),
 * and the files written before the schema had versions.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { HistoryOpenError, type TaskHistory } from '../../../src/main/core/storage/history'
import { createHistory } from '../../../src/main/core/storage/open-history'
import { SQLITE_MIGRATIONS } from '../../../src/main/core/storage/sqlite-backend'
import { status, task } from '../../helpers/histories'

const DAY = 24 * 3600 * 1000
const histories: TaskHistory[] = []
afterEach(async () => {
  await Promise.all(histories.splice(0).map((history) => history.close()))
})

function history(file: string, sqliteBinding?: string): TaskHistory {
  const made = createHistory(
    { kind: 'sqlite', file },
    { retention: { maxTasks: 1000, maxAgeMs: 30 * DAY }, sqliteBinding },
  )
  histories.push(made)
  return made
}
const dbFile = () => join(mkdtempSync(join(tmpdir(), 'sm-sqlite-')), 'swarm.db')

describe('the SQLite history', () => {
  it('loads the SQLite addon it is given instead of its own build', async () => {
    // A copy elsewhere works like the original, so the path given is the one loaded; a file that is no addon fails.
    const addon = join(mkdtempSync(join(tmpdir(), 'sm-addon-')), 'better_sqlite3.node')
    copyFileSync(join(__dirname, '../../../node_modules/better-sqlite3/build/Release/better_sqlite3.node'), addon)
    const file = dbFile()
    const onCopy = history(file, addon)
    await onCopy.open()
    onCopy.record(status(task({ id: 'on-the-copy' })))
    await onCopy.durable('on-the-copy')
    const reader = history(file)
    await reader.open()
    expect((await reader.restore()).tasks.map((t) => t.id)).toEqual(['on-the-copy'])
    // Another file: overwriting the loaded addon would pull its code from under this process.
    const bogus = join(mkdtempSync(join(tmpdir(), 'sm-addon-')), 'better_sqlite3.node')
    writeFileSync(bogus, 'not an addon')
    const refused = await history(dbFile(), bogus)
      .open()
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(HistoryOpenError)
    expect(refused).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/invalid ELF header|better_sqlite3\.node/),
    })
  })

  it('takes a file written before schema versions as it is: migrated, every task and its history kept', async () => {
    const file = dbFile()
    // The file as the versions before this one left it: version 1's tables, user_version 0, a task with its history.
    const old = new Database(file)
    old.exec(SQLITE_MIGRATIONS[0]!.up)
    const t = task({ id: 'kept', status: 'succeeded', agentId: 'a1', attempts: 1, finishedAt: 1400, updatedAt: 1400 })
    old
      .prepare('INSERT INTO tasks (id, status, created_at, finished_at, data, log_count) VALUES (?, ?, ?, ?, ?, 1)')
      .run(t.id, t.status, t.createdAt, t.finishedAt, JSON.stringify(t))
    old
      .prepare('INSERT INTO transitions (task_id, at, status, agent_id, attempt, error) VALUES (?, ?, ?, ?, ?, ?)')
      .run('kept', 1400, 'succeeded', 'a1', 1, null)
    old
      .prepare('INSERT INTO task_logs (task_id, at, level, message) VALUES (?, ?, ?, ?)')
      .run('kept', 1300, 'info', 'hi')
    old.close()

    const h = history(file)
    expect(await h.open()).toMatchObject({ migratedFrom: 0, schemaVersion: SQLITE_MIGRATIONS.length })
    expect((await h.restore()).tasks).toEqual([t])
    expect(await h.detail('kept')).toMatchObject({
      transitions: [{ status: 'succeeded', agentId: 'a1' }],
      logs: [{ message: 'hi' }],
    })
    expect((await h.list({ limit: 5, agentId: 'a1' })).total).toBe(1)
  })
  it('keeps its full-text indexes in step with the rows: retention takes their entries, VACUUM does not shift them', async () => {
    const file = dbFile()
    let now = 100 * DAY
    const h = createHistory(
      { kind: 'sqlite', file },
      { retention: { maxTasks: 1, maxAgeMs: 10 * DAY }, now: () => now },
    )
    histories.push(h)
    await h.open()
    for (const [id, finishedAt] of [
      ['gone', now - DAY],
      ['kept', now],
    ] as const) {
      h.record(status(task({ id, name: `${id} heron`, status: 'succeeded', attempts: 1, finishedAt })))
      h.record({
        type: 'task:log',
        at: finishedAt,
        taskId: id,
        agentId: 'a1',
        level: 'info',
        message: `${id} heron line`,
      })
    }
    await h.durable('kept')
    now += DAY
    expect(await h.prune()).toBe(1)
    const raw = new Database(file)
    const matches = (table: string) =>
      raw.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${table} MATCH 'heron'`).get() as { n: number }
    // Index entries, not joined with the rows: a stale one would still be counted here.
    expect(matches('tasks_fts').n).toBe(1)
    expect(matches('task_logs_fts').n).toBe(1)
    raw.exec('VACUUM')
    raw.close()
    const terms = [{ words: ['heron'], prefix: false }]
    expect((await h.list({ limit: 5, search: terms })).tasks.map((t) => t.id)).toEqual(['kept'])
    expect((await h.logs({ limit: 5, search: terms })).lines.map((l) => l.message)).toEqual(['kept heron line'])
  })
})
