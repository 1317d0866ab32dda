/**
 * The per-kind limits table (`OperatorStore.kindLimits`), one migration on
 * each backend, after the operator's tables (operator-schema.ts). A kind back
 * at its defaults has no row.
 */
export const KIND_LIMITS_SCHEMA_VERSION = 5

export const KIND_LIMITS_MIGRATION = {
  summary: 'per-kind limits: paused, maxRunning, maxPerMinute',
  sqlite: `
CREATE TABLE kind_limits (
  kind TEXT PRIMARY KEY,
  paused INTEGER NOT NULL,
  max_running INTEGER,
  max_per_minute INTEGER,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;`,
  postgres: `
CREATE TABLE kind_limits (
  kind text PRIMARY KEY,
  paused boolean NOT NULL,
  max_running integer,
  max_per_minute integer,
  updated_at bigint NOT NULL
);`,
} as const
