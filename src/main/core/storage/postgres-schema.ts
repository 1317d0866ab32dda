/**
 * The PostgreSQL history's schema and its migrations. The version lives in
 * the table `swarm_schema`; migrations run in one transaction under an
 * advisory lock, so two servers starting at once do not both migrate, and a
 * failure leaves the database as it was. They run on a connection of their
 * own, without the pool's per-query time limit: a migration over a big
 * history may take minutes.
 */
import type { ClientBase } from 'pg'
import { z } from 'zod'
import { HistoryOpenError } from './history'
import { latestVersion, pendingMigrations, type Migration } from './migrations'
import { KIND_LIMITS_MIGRATION, KIND_LIMITS_SCHEMA_VERSION } from './kind-limits-schema'
import { OPERATOR_MIGRATION, OPERATOR_SCHEMA_VERSION } from './operator-schema'
import { SCHEDULE_MIGRATION, SCHEDULE_SCHEMA_VERSION } from './schedule-schema'
import { POSTGRES_SEARCH_MIGRATION } from './postgres-search'
import { rowsOf, VersionRowSchema } from './rows'

const PresentRowSchema = z.object({ present: z.boolean() })

export const POSTGRES_MIGRATIONS: readonly Migration<string>[] = [
  {
    version: 1,
    summary: 'tasks, transitions, task logs, meta',
    up: `
CREATE TABLE tasks (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  status text NOT NULL,
  created_at bigint NOT NULL,
  finished_at bigint,
  data text NOT NULL,
  log_count integer NOT NULL DEFAULT 0,
  logs_dropped integer NOT NULL DEFAULT 0
);
CREATE INDEX tasks_finished_at ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE transitions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id text NOT NULL,
  at bigint NOT NULL,
  status text NOT NULL,
  agent_id text,
  attempt integer NOT NULL,
  error text
);
CREATE INDEX transitions_task ON transitions (task_id, id);
CREATE TABLE task_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id text NOT NULL,
  at bigint NOT NULL,
  level text NOT NULL,
  message text NOT NULL
);
CREATE INDEX task_logs_task ON task_logs (task_id, id);
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);`,
  },
  {
    version: 2,
    summary: 'an agent column and indexes for listing by status and agent, newest first',
    // jsonb refuses the escape \u0000 that JSON text may hold: such rows get their agent at their next write.
    up: `
ALTER TABLE tasks ADD COLUMN agent_id text;
UPDATE tasks SET agent_id = data::jsonb ->> 'agentId' WHERE data NOT LIKE '%\\u0000%';
CREATE INDEX tasks_created ON tasks (created_at, ord);
CREATE INDEX tasks_status_created ON tasks (status, created_at, ord);
CREATE INDEX tasks_agent_created ON tasks (agent_id, created_at, ord);`,
  },
  {
    version: 3,
    summary:
      'full-text search over tasks and their log lines (tsvector, GIN), a kind column, the agent of each log line',
    up: POSTGRES_SEARCH_MIGRATION,
  },
  { version: OPERATOR_SCHEMA_VERSION, summary: OPERATOR_MIGRATION.summary, up: OPERATOR_MIGRATION.postgres },
  { version: KIND_LIMITS_SCHEMA_VERSION, summary: KIND_LIMITS_MIGRATION.summary, up: KIND_LIMITS_MIGRATION.postgres },
  { version: SCHEDULE_SCHEMA_VERSION, summary: SCHEDULE_MIGRATION.summary, up: SCHEDULE_MIGRATION.postgres },
]

/** Any constant: the lock only has to be the same for every Swarm Monitor. */
const MIGRATION_LOCK = 742_001

/** Brings the schema to `target` (default the latest); resolves with the version found. */
export async function migratePostgres(client: ClientBase, database: string, target?: number): Promise<number> {
  const stop = target ?? latestVersion(POSTGRES_MIGRATIONS)
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    const present = await client.query("SELECT to_regclass('swarm_schema') IS NOT NULL AS present")
    if (!rowsOf(PresentRowSchema, present.rows, 'swarm_schema')[0]?.present) {
      await client.query('CREATE TABLE swarm_schema (version integer NOT NULL)')
    }
    const found = rowsOf(
      VersionRowSchema,
      (await client.query('SELECT max(version) AS version FROM swarm_schema')).rows,
      'swarm_schema',
    )[0]
    const current = found?.version ?? 0
    let reached = current
    for (const migration of pendingMigrations(POSTGRES_MIGRATIONS, current, database)) {
      if (migration.version > stop) break
      await client.query(migration.up)
      reached = migration.version
    }
    if (reached !== current) {
      await client.query('DELETE FROM swarm_schema')
      await client.query('INSERT INTO swarm_schema (version) VALUES ($1)', [reached])
    }
    await client.query('COMMIT')
    return current
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    if (error instanceof HistoryOpenError) throw error
    throw new HistoryOpenError(
      `cannot bring the history database ${database} up to date: ${(error as Error).message}`,
      2,
    )
  }
}
