/**
 * One PostgreSQL server (tests/helpers/postgres.ts) for the enclosing suite,
 * a file or a `describe`: started before its tests, removed after them. Kept
 * apart from postgres.ts, which the bench imports outside Vitest.
 */
import { afterAll, beforeAll } from 'vitest'
import { startPostgres, type Postgres } from './postgres'

/** Registers the hooks; the returned function gives the server once it is up. */
export function postgresForSuite(): () => Postgres {
  let pg: Postgres | undefined
  beforeAll(async () => {
    pg = await startPostgres()
  }, 30_000)
  afterAll(() => pg?.destroy())
  return () => {
    if (!pg) throw new Error('the suite’s PostgreSQL server is not started yet')
    return pg
  }
}
