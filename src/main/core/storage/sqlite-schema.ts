/**
 * The SQLite history's schema and its migrations (`PRAGMA user_version`),
 * each run in one transaction with its version bump by `SqliteBackend`.
 */
import type { Migration } from './migrations'
import { KIND_LIMITS_MIGRATION, KIND_LIMITS_SCHEMA_VERSION } from './kind-limits-schema'
import { OPERATOR_MIGRATION, OPERATOR_SCHEMA_VERSION } from './operator-schema'
import { SCHEDULE_MIGRATION, SCHEDULE_SCHEMA_VERSION } from './schedule-schema'
import { SQLITE_SEARCH_MIGRATION } from './sqlite-search'

/** Version 1 is the schema of the versions before schema versions: it applies to their files as they are. */
export const SQLITE_MIGRATIONS: readonly Migration<string>[] = [
  {
    version: 1,
    summary: 'tasks, transitions, task logs, meta',
    up: `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  data TEXT NOT NULL,
  log_count INTEGER NOT NULL DEFAULT 0,
  logs_dropped INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_finished_at ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS transitions (
  task_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  status TEXT NOT NULL,
  agent_id TEXT,
  attempt INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS transitions_task ON transitions (task_id);
CREATE TABLE IF NOT EXISTS task_logs (
  task_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS task_logs_task ON task_logs (task_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  },
  {
    version: 2,
    summary: 'an agent column and indexes for listing by status and agent, newest first',
    up: `
ALTER TABLE tasks ADD COLUMN agent_id TEXT;
UPDATE tasks SET agent_id = json_extract(data, '$.agentId') WHERE json_valid(data);
CREATE INDEX tasks_created ON tasks (created_at);
CREATE INDEX tasks_status_created ON tasks (status, created_at);
CREATE INDEX tasks_agent_created ON tasks (agent_id, created_at);`,
  },
  {
    version: 3,
    summary: 'full-text search over tasks and their log lines (FTS5), a kind column, the agent of each log line',
    up: SQLITE_SEARCH_MIGRATION,
  },
  { version: OPERATOR_SCHEMA_VERSION, summary: OPERATOR_MIGRATION.summary, up: OPERATOR_MIGRATION.sqlite },
  { version: KIND_LIMITS_SCHEMA_VERSION, summary: KIND_LIMITS_MIGRATION.summary, up: KIND_LIMITS_MIGRATION.sqlite },
  { version: SCHEDULE_SCHEMA_VERSION, summary: SCHEDULE_MIGRATION.summary, up: SCHEDULE_MIGRATION.sqlite },
]
