/** One transaction on one PostgreSQL connection, for both adapters on the history's pool. */
import type { Pool, PoolClient } from 'pg'

/** Runs `body` in a transaction on one connection; a connection that failed is dropped, not reused. */
export async function inTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  // Checked out, a connection has no listener for its 'error' (the pool's is for idle ones): the server ending it
  // between two queries (stopped, restarted, terminated) would crash the process. The next query fails instead.
  const ignore = () => {}
  client.on('error', ignore)
  try {
    await client.query('BEGIN')
    const result = await body(client)
    await client.query('COMMIT')
    client.release()
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    client.release(true)
    throw error
  } finally {
    // After the release: the pool has put its own listener back by then.
    client.removeListener('error', ignore)
  }
}
