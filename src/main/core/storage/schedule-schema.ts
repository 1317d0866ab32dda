/**
 * The schedules' table (core/schedules): one row per schedule, its whole
 * state as JSON (the book is its only writer and reads it all at start).
 * Schema version 6 on both backends, after the per-kind limits' 5.
 */
export const SCHEDULE_SCHEMA_VERSION = 6

export const SCHEDULE_MIGRATION = {
  summary: 'schedules (cron runs of a task or a workflow)',
  sqlite: `
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  data TEXT NOT NULL
);`,
  postgres: `
CREATE TABLE schedules (
  id text PRIMARY KEY,
  created_at bigint NOT NULL,
  data text NOT NULL
);`,
} as const
