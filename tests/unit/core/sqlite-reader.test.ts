/**
 * The SQLite history's reads on worker threads: the server's thread keeps
 * running while a long query does, a query past its time is stopped and the
 * reader goes on, and a reader that cannot start a worker reads on the
 * server's thread instead, saying so.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteReader } from '../../../src/main/core/storage/sqlite-reader'

/** Counts to n in SQL: a query that keeps a thread busy for as long as asked. */
const BUSY = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) AS n FROM c'

const readers: SqliteReader[] = []
afterEach(async () => {
  await Promise.all(readers.splice(0).map((reader) => reader.close()))
})

function database(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sm-reader-')), 'swarm.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)')
  db.close()
  return file
}

describe('SqliteReader', () => {
  it('reads on a worker: the calling thread goes on while a long query runs', async () => {
    const fallbacks: string[] = []
    const reader = new SqliteReader({ file: database() }, (sql) => (fallbacks.push(sql), []))
    readers.push(reader)
    expect(await reader.all('SELECT x FROM t ORDER BY x', [])).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }])
    let ticks = 0
    let longest = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
      ticks++
    }, 5)
    const started = performance.now()
    const [busy] = await reader.all(BUSY, [3_000_000])
    const took = performance.now() - started
    clearInterval(timer)
    expect(busy).toEqual({ n: 3_000_000 })
    expect(took).toBeGreaterThan(200)
    // On this thread the same query would have been one tick-less stretch as long as `took`.
    expect(longest).toBeLessThan(Math.max(100, took / 3))
    expect(ticks).toBeGreaterThan(5)
    expect(fallbacks).toEqual([])
  })

  it('stops a query past its time with an error, and answers the next one', async () => {
    // Long enough for a worker to start on a busy machine (the next query waits for a new one), short for the busy query.
    const reader = new SqliteReader({ file: database(), timeoutMs: 1500, workers: 1 }, () => [])
    readers.push(reader)
    await expect(reader.all(BUSY, [1e9])).rejects.toThrow(/took longer than 1.5 s and was stopped/)
    expect(await reader.all('SELECT count(*) AS n FROM t', [])).toEqual([{ n: 3 }])
  })

  it('reads on the calling thread when no worker can open the database, and says so once', async () => {
    const warnings: string[] = []
    const reader = new SqliteReader(
      { file: join(tmpdir(), 'sm-reader-missing', 'nothing.db') },
      (sql, params) => [{ sql, params }],
      (message) => warnings.push(message),
    )
    readers.push(reader)
    expect(await reader.all('SELECT 1', [7])).toEqual([{ sql: 'SELECT 1', params: [7] }])
    expect(await reader.all('SELECT 2', [])).toEqual([{ sql: 'SELECT 2', params: [] }])
    expect(warnings).toEqual([expect.stringMatching(/run on the server's thread \(no worker thread could read it: /)])
  })
})
