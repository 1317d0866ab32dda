/**
 * Searching the SQLite history: schema version 3 and the queries over it.
 *
 * Full text is FTS5 (compiled into better-sqlite3's SQLite), tokenizer
 * `unicode61` without diacritic folding, so words split as
 * `src/shared/search.ts` splits them and as PostgreSQL is given them:
 * - `tasks_fts`: one row per task, rowid = `tasks.ord`, the text of
 *   `taskSearchText` (rows.ts). Contentless (the text is in `data` already)
 *   with `contentless_delete`, kept by the backend on every write and prune.
 * - `task_logs_fts`: over `task_logs.message` (external content, rowid =
 *   `task_logs.id`), written in the commit that stores the line and deleted
 *   with it. By the backend's own statements, not triggers: an FTS5 insert
 *   from a trigger costs four times as much (measured: 500,000 lines, 10 s
 *   against 2.5 s), and log lines are most of what the history writes.
 * Version 3 rebuilds `tasks` and `task_logs` with an INTEGER PRIMARY KEY
 * (`ord`, `id`, their old rowids): VACUUM may renumber implicit rowids, which
 * would point both indexes at the wrong rows. Log lines stored before it get
 * their task's last agent.
 */
import type { SearchTerm } from '../../../shared/search'
import type { HistoryQuery, LogQuery, TaskFilter } from './history'
import { decodeCursor, decodeLogCursor } from './rows'

const TOKENIZE = "tokenize = 'unicode61 remove_diacritics 0'"

export const SQLITE_SEARCH_MIGRATION = `
CREATE TABLE tasks_v3 (
  ord INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  kind TEXT,
  agent_id TEXT,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  data TEXT NOT NULL,
  log_count INTEGER NOT NULL DEFAULT 0,
  logs_dropped INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tasks_v3 (ord, id, status, kind, agent_id, created_at, finished_at, data, log_count, logs_dropped)
  SELECT rowid, id, status, CASE WHEN json_valid(data) THEN json_extract(data, '$.kind') END, agent_id,
    created_at, finished_at, data, log_count, logs_dropped
  FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v3 RENAME TO tasks;
CREATE INDEX tasks_finished_at ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tasks_created ON tasks (created_at);
CREATE INDEX tasks_status_created ON tasks (status, created_at);
CREATE INDEX tasks_agent_created ON tasks (agent_id, created_at);
CREATE INDEX tasks_kind_created ON tasks (kind, created_at);

CREATE TABLE task_logs_v3 (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  agent_id TEXT,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
INSERT INTO task_logs_v3 (id, task_id, agent_id, at, level, message)
  SELECT l.rowid, l.task_id, (SELECT agent_id FROM tasks WHERE tasks.id = l.task_id), l.at, l.level, l.message
  FROM task_logs l;
DROP TABLE task_logs;
ALTER TABLE task_logs_v3 RENAME TO task_logs;
CREATE INDEX task_logs_task ON task_logs (task_id);
CREATE INDEX task_logs_agent ON task_logs (agent_id);
CREATE INDEX task_logs_at ON task_logs (at);

CREATE VIRTUAL TABLE tasks_fts USING fts5 (body, content = '', contentless_delete = 1, ${TOKENIZE});
INSERT INTO tasks_fts (rowid, body)
  SELECT ord, concat_ws(' ', id, json_extract(data, '$.name'), json_extract(data, '$.kind'),
    json_extract(data, '$.error'), json_extract(data, '$.result'), json_extract(data, '$.payload'))
  FROM tasks WHERE json_valid(data);

CREATE VIRTUAL TABLE task_logs_fts USING fts5 (message, content = 'task_logs', content_rowid = 'id', ${TOKENIZE});
INSERT INTO task_logs_fts (task_logs_fts) VALUES ('rebuild');`

/** FTS5 query text: each term a quoted phrase (its words hold only letters, digits and marks), all of them. */
export function ftsMatch(terms: readonly SearchTerm[]): string {
  return terms.map((term) => `"${term.words.join(' ')}"${term.prefix ? '*' : ''}`).join(' AND ')
}

export interface Sql {
  where: string[]
  params: (string | number)[]
}

/** The WHERE of a task filter over `tasks`. */
export function taskWhere(filter: TaskFilter): Sql {
  const where: string[] = []
  const params: (string | number)[] = []
  // Searching, the matches drive and the other columns are only checked (a unary + keeps their indexes out):
  // left to itself, SQLite walks a kind's or a status's whole index and tests each row against the matches.
  const searching = filter.search !== undefined && filter.search.length > 0
  const column = (name: string) => (searching ? `+${name}` : name)
  const statuses =
    filter.status === undefined ? [] : typeof filter.status === 'string' ? [filter.status] : filter.status
  if (statuses.length > 0) {
    where.push(`${column('status')} IN (${statuses.map(() => '?').join(', ')})`)
    params.push(...statuses)
  }
  const compare: [string, string, string | number | undefined][] = [
    ['kind', '=', filter.kind],
    ['agent_id', '=', filter.agentId],
    ['created_at', '>=', filter.since],
    ['created_at', '<', filter.until],
  ]
  for (const [name, operator, value] of compare) {
    if (value === undefined) continue
    where.push(`${column(name)} ${operator} ?`)
    params.push(value)
  }
  if (searching) {
    const match = ftsMatch(filter.search!)
    where.push(
      `(ord IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)
        OR id IN (SELECT l.task_id FROM task_logs_fts f JOIN task_logs l ON l.id = f.rowid WHERE task_logs_fts MATCH ?))`,
    )
    params.push(match, match)
  }
  return { where, params }
}

const clause = (where: readonly string[]) => (where.length > 0 ? `WHERE ${where.join(' AND ')}` : '')

export function countTasks(filter: TaskFilter): { sql: string; params: (string | number)[] } {
  const { where, params } = taskWhere(filter)
  return { sql: `SELECT count(*) AS total FROM tasks ${clause(where)}`, params }
}

/** `limit + 1` rows after the cursor, newest first. */
export function pageTasks(query: HistoryQuery): { sql: string; params: (string | number)[] } {
  const { where, params } = taskWhere(query)
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor)
    where.push('(created_at < ? OR (created_at = ? AND ord < ?))')
    params.push(after.createdAt, after.createdAt, after.ord)
  }
  return {
    sql: `SELECT id, data, created_at, ord FROM tasks ${clause(where)} ORDER BY created_at DESC, ord DESC LIMIT ?`,
    params: [...params, query.limit + 1],
  }
}

/**
 * `limit + 1` log lines after the cursor, newest first. With words to find,
 * FTS5 drives (it walks its matches by rowid, newest first, and stops at the
 * page's end); otherwise the table and its indexes do.
 */
export function pageLogs(query: LogQuery): { sql: string; params: (string | number)[] } {
  const where: string[] = []
  const params: (string | number)[] = []
  const searching = query.search !== undefined && query.search.length > 0
  const column = (name: string) => (searching ? `l.${name}` : name)
  if (searching) {
    where.push('task_logs_fts MATCH ?')
    params.push(ftsMatch(query.search!))
  }
  const equal: [string, string | undefined][] = [
    ['task_id', query.taskId],
    ['agent_id', query.agentId],
  ]
  for (const [name, value] of equal) {
    if (value === undefined) continue
    where.push(`${column(name)} = ?`)
    params.push(value)
  }
  if (query.levels !== undefined && query.levels.length > 0) {
    where.push(`${column('level')} IN (${query.levels.map(() => '?').join(', ')})`)
    params.push(...query.levels)
  }
  if (query.since !== undefined) {
    where.push(`${column('at')} >= ?`)
    params.push(query.since)
  }
  if (query.until !== undefined) {
    where.push(`${column('at')} < ?`)
    params.push(query.until)
  }
  if (query.cursor !== undefined) {
    where.push(searching ? 'f.rowid < ?' : 'id < ?')
    params.push(decodeLogCursor(query.cursor))
  }
  const from = searching ? 'task_logs_fts f JOIN task_logs l ON l.id = f.rowid' : 'task_logs'
  const order = searching ? 'f.rowid' : 'id'
  return {
    sql: `SELECT ${['id', 'task_id', 'agent_id', 'at', 'level', 'message'].map(column).join(', ')}
          FROM ${from} ${clause(where)} ORDER BY ${order} DESC LIMIT ?`,
    params: [...params, query.limit + 1],
  }
}
