/**
 * The operator's tables (operator-store.ts): the audit trail, saved views
 * and metric samples, one migration on each backend. Its number is
 * `OPERATOR_SCHEMA_VERSION`, after the full-text search's 3 (sqlite-schema.ts
 * and postgres-schema.ts list them all).
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
