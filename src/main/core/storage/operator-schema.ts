/**
 * The operator's tables (operator-store.ts): the audit trail, saved views
 * and metric samples, one migration on each backend. Its number is
 * `OPERATOR_SCHEMA_VERSION`: renumbering it, when migrations of another
 * branch land first, is this one constant (and the reserved step before it
 * in each list, sqlite-backend.ts and postgres-schema.ts).
 */
export const OPERATOR_SCHEMA_VERSION = 4

export const OPERATOR_MIGRATION = {
  summary: 'the audit trail, saved views, metric samples for long time ranges',
  sqlite: `
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT,
  role TEXT,
  address TEXT NOT NULL,
  via TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  outcome TEXT NOT NULL,
  code TEXT,
  message TEXT
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE TABLE saved_views (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE,
  view TEXT NOT NULL,
  params TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE metric_samples (
  step_ms INTEGER NOT NULL,
  at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (step_ms, at)
) WITHOUT ROWID;`,
  postgres: `
CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  actor text,
  role text,
  address text NOT NULL,
  via text NOT NULL,
  action text NOT NULL,
  target text,
  outcome text NOT NULL,
  code text,
  message text
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE TABLE saved_views (
  id text PRIMARY KEY,
  name text NOT NULL,
  name_key text NOT NULL UNIQUE,
  view text NOT NULL,
  params text NOT NULL,
  created_by text NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE metric_samples (
  step_ms integer NOT NULL,
  at bigint NOT NULL,
  data text NOT NULL,
  PRIMARY KEY (step_ms, at)
);`,
} as const

/**
 * Versions below ours that another branch has claimed and not yet brought:
 * a step that changes nothing holds each place, so the list stays numbered
 * 1, 2, …. The merge that brings the real step deletes its stand-in.
 */
export const RESERVED_STEP = {
  summary: 'reserved (full-text search, issue 16 §1): nothing yet',
  sqlite: 'SELECT 1;',
  postgres: 'SELECT 1;',
} as const
