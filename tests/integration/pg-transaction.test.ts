/**
 * A transaction's connection that the server ends while it is checked out
 * from the pool — between two queries, when neither the pool nor a query
 * listens — fails that transaction and nothing else: the process goes on
 * (a cluster leader cut off from PostgreSQL must exit with its own status,
 * 3, not crash on an unhandled 'error'), and the pool serves again.
 */
import { Pool } from 'pg'
import { describe, expect, it } from 'vitest'
import { inTransaction } from '../../src/main/core/storage/pg-transaction'
import { postgresForSuite } from '../helpers/postgres-suite'

const pg = postgresForSuite()

describe('inTransaction', () => {
  it('fails the transaction, not the process, when the server ends its connection between queries', async () => {
    const { name, url } = await pg().createDatabase()
    const pool = new Pool({ connectionString: url, max: 1 })
    pool.on('error', () => {})
    try {
      const outcome = inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
        await pg().sql(name, 'SELECT pg_terminate_backend($1)', [rows[0]!.pid])
        // The end of the connection arrives while no query runs on it.
        await new Promise((resolve) => setTimeout(resolve, 300))
        await client.query('SELECT 1')
      })
      await expect(outcome).rejects.toThrow()
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1)
    } finally {
      await pool.end()
    }
  })
})
