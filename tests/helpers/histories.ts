/**
 * The history backends the contract suite runs against, each with what a
 * test needs beside the port: a fresh database, raw SQL on it (to damage a
 * row, to read a schema version) and a way to make its commits fail.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { DatabaseTarget } from '../../src/main/core/config/database-url'
import type { Task } from '../../src/shared/domain'
import type { SwarmChange } from '../../src/shared/events'
import { startPostgres, type Postgres } from './postgres'

export interface TestDatabase {
  target: DatabaseTarget
  /** SQL on the database outside the history, `?` placeholders on both backends. */
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  /** Every commit that writes a task fails from now on, until `fixWrites`. */
  breakWrites(): Promise<void>
  fixWrites(): Promise<void>
  /** The schema version the database says it is at. */
  schemaVersion(): Promise<number>
  /** Claims a version from the future. */
  setSchemaVersion(version: number): Promise<void>
}

export interface BackendFixture {
  name: 'SQLite' | 'PostgreSQL'
  /** Once per file, before the first `database()`. */
  setup(): Promise<void>
  teardown(): void
  database(): Promise<TestDatabase>
}

export function sqliteFixture(): BackendFixture {
  return {
    name: 'SQLite',
    async setup() {},
    teardown() {},
    async database() {
      const file = join(mkdtempSync(join(tmpdir(), 'sm-history-')), 'swarm.db')
      const raw = async (sql: string, params: unknown[] = []) => {
        const db = new Database(file)
        try {
          const statement = db.prepare(sql)
          return statement.reader
            ? (statement.all(...params) as Record<string, unknown>[])
            : (statement.run(...params), [])
        } finally {
          db.close()
        }
      }
      const exec = (sql: string) => {
        const db = new Database(file)
        try {
          db.exec(sql)
        } finally {
          db.close()
        }
      }
      return {
        target: { kind: 'sqlite', file },
        raw,
        async breakWrites() {
          exec("CREATE TRIGGER boom BEFORE INSERT ON tasks BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        },
        async fixWrites() {
          exec('DROP TRIGGER boom')
        },
        async schemaVersion() {
          return Number((await raw('PRAGMA user_version'))[0]!.user_version)
        },
        async setSchemaVersion(version) {
          exec(`PRAGMA user_version = ${version}`)
        },
      }
    },
  }
}

export function postgresFixture(): BackendFixture {
  let server: Postgres | null = null
  return {
    name: 'PostgreSQL',
    async setup() {
      server = await startPostgres()
    },
    teardown() {
      server?.destroy()
      server = null
    },
    async database() {
      if (!server) throw new Error('postgresFixture: setup() first')
      const pg = server
      const { name, url } = await pg.createDatabase()
      const raw = (sql: string, params: unknown[] = []) => {
        let n = 0
        return pg.sql(
          name,
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      }
      return {
        target: { kind: 'postgres', url },
        raw,
        async breakWrites() {
          await raw(
            "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql",
          )
          await raw('CREATE TRIGGER boom BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION boom()')
        },
        async fixWrites() {
          await raw('DROP TRIGGER boom ON tasks')
          await raw('DROP FUNCTION boom()')
        },
        async schemaVersion() {
          return Number((await raw('SELECT max(version) AS version FROM swarm_schema'))[0]!.version)
        },
        async setSchemaVersion(version) {
          await raw('UPDATE swarm_schema SET version = ?', [version])
        },
      }
    },
  }
}

export function task(fields: Partial<Task> & Pick<Task, 'id'>): Task {
  return {
    name: fields.id,
    kind: 'shell',
    payload: { command: 'true' },
    priority: 0,
    capabilities: [],
    status: 'queued',
    agentId: null,
    attempts: 0,
    requeues: 0,
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

export const status = (t: Task): SwarmChange => ({ type: 'task:status', at: t.updatedAt, task: t })

export const logLine = (taskId: string, message: string): SwarmChange => ({
  type: 'task:log',
  at: 2000,
  taskId,
  agentId: 'a',
  level: 'info',
  message,
})
