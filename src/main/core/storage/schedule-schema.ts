/**
 * The schedules' table (core/schedules): one row per schedule, its whole
 * state as JSON (the book is its only writer and reads it all at start).
 * Schema version 6 on both backends. Version 5 is the per-kind limits'
 * migration, written on another branch: until the two meet, this branch
 * holds a no-op in its place (`RESERVED_MIGRATION`), which the merge replaces.
 */
export const SCHEDULE_SCHEMA_VERSION = 6

export const RESERVED_MIGRATION = {
  version: 5,
  summary: 'reserved (per-kind limits)',
  sqlite: 'SELECT 1;',
  postgres: 'SELECT 1',
} as const

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
