/**
 * Searching the PostgreSQL history: schema version 3 and the queries over it.
 *
 * Full text is PostgreSQL's own: a `search tsvector` column on `tasks` and on
 * `task_logs`, each with a GIN index, configuration `simple` (no stemming, no
 * stop words). The backend fills them from the text reduced to its words by
 * `searchableText` (src/shared/search.ts), so PostgreSQL's parser sees only
 * words and spaces and splits as SQLite's FTS5 does (it would otherwise keep
 * `/usr/bin/x` or `a.b.c` as one token). Queries are tsquery text built from
 * parsed terms (`'word' <-> 'word':*`), never the user's text, so there is no
 * syntax to get wrong. Rows stored before version 3 are indexed by the
 * migration with `regexp_replace`, close to the same split; their log lines
 * get their task's last agent.
 */
import type { SearchTerm } from '../../../shared/search'
import type { HistoryQuery, LogQuery, TaskFilter } from './history'
import { decodeCursor, decodeLogCursor } from './rows'

/** Words only, lower case: what `searchableText` does, for the rows the migration indexes. */
const words = (text: string) => `to_tsvector('simple', lower(regexp_replace(${text}, '[^[:alnum:]]+', ' ', 'g')))`

// jsonb refuses some JSON text (the escape \u0000, a lone surrogate): such a row is indexed by its id alone.
export const POSTGRES_SEARCH_MIGRATION = `
CREATE FUNCTION pg_temp.swarm_jsonb(data text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN data::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
ALTER TABLE tasks ADD COLUMN kind text, ADD COLUMN search tsvector;
UPDATE tasks t SET kind = j.doc ->> 'kind',
  search = ${words(`concat_ws(' ', t.id, j.doc ->> 'name', j.doc ->> 'kind', j.doc ->> 'error', j.doc -> 'result', j.doc -> 'payload')`)}
FROM (SELECT ord, pg_temp.swarm_jsonb(data) AS doc FROM tasks) j
WHERE j.ord = t.ord;
CREATE INDEX tasks_kind_created ON tasks (kind, created_at, ord);
CREATE INDEX tasks_search ON tasks USING gin (search);
ALTER TABLE task_logs ADD COLUMN agent_id text, ADD COLUMN search tsvector;
UPDATE task_logs l SET agent_id = (SELECT agent_id FROM tasks t WHERE t.id = l.task_id), search = ${words('l.message')};
CREATE INDEX task_logs_agent ON task_logs (agent_id, id);
CREATE INDEX task_logs_at ON task_logs (at);
CREATE INDEX task_logs_search ON task_logs USING gin (search);`

/** tsquery text: each term's words in a row (`<->`), the last one a prefix if asked, every term (`&`). */
export function tsquery(terms: readonly SearchTerm[]): string {
  return terms
    .map((term) => term.words.map((word, i) => `'${word}'${term.prefix && i === term.words.length - 1 ? ':*' : ''}`))
    .map((parts) => (parts.length > 1 ? `(${parts.join(' <-> ')})` : parts[0]!))
    .join(' & ')
}

export interface Sql {
  text: string
  values: (string | number | readonly string[])[]
}

/** Builds a WHERE with `$n` parameters. */
class Where {
  readonly parts: string[] = []
  readonly values: (string | number | readonly string[])[] = []
  param(value: string | number | readonly string[]): string {
    return `$${this.values.push(value)}`
  }
  get clause(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : ''
  }
}

function taskWhere(filter: TaskFilter): Where {
  const where = new Where()
  const statuses =
    filter.status === undefined ? [] : typeof filter.status === 'string' ? [filter.status] : filter.status
  if (statuses.length > 0) where.parts.push(`status = ANY(${where.param(statuses)}::text[])`)
  if (filter.kind !== undefined) where.parts.push(`kind = ${where.param(filter.kind)}`)
  if (filter.agentId !== undefined) where.parts.push(`agent_id = ${where.param(filter.agentId)}`)
  if (filter.since !== undefined) where.parts.push(`created_at >= ${where.param(filter.since)}`)
  if (filter.until !== undefined) where.parts.push(`created_at < ${where.param(filter.until)}`)
  if (filter.search && filter.search.length > 0) {
    // A union, not `search @@ q OR id IN (…)`: PostgreSQL plans that OR as a scan of every task.
    const query = `to_tsquery('simple', ${where.param(tsquery(filter.search))})`
    where.parts.push(
      `id IN (SELECT id FROM tasks WHERE search @@ ${query} UNION SELECT task_id FROM task_logs WHERE search @@ ${query})`,
    )
  }
  return where
}

export function countTasks(filter: TaskFilter): Sql {
  const where = taskWhere(filter)
  return { text: `SELECT count(*) AS total FROM tasks ${where.clause}`, values: where.values }
}

export function pageTasks(query: HistoryQuery): Sql {
  const where = taskWhere(query)
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor)
    where.parts.push(`(created_at, ord) < (${where.param(after.createdAt)}, ${where.param(after.ord)})`)
  }
  const limit = where.param(query.limit + 1)
  return {
    text: `SELECT id, data, created_at, ord FROM tasks ${where.clause} ORDER BY created_at DESC, ord DESC LIMIT ${limit}`,
    values: where.values,
  }
}

export function pageLogs(query: LogQuery): Sql {
  const where = new Where()
  if (query.search && query.search.length > 0) {
    where.parts.push(`search @@ to_tsquery('simple', ${where.param(tsquery(query.search))})`)
  }
  if (query.taskId !== undefined) where.parts.push(`task_id = ${where.param(query.taskId)}`)
  if (query.agentId !== undefined) where.parts.push(`agent_id = ${where.param(query.agentId)}`)
  if (query.levels !== undefined && query.levels.length > 0) {
    where.parts.push(`level = ANY(${where.param(query.levels)}::text[])`)
  }
  if (query.since !== undefined) where.parts.push(`at >= ${where.param(query.since)}`)
  if (query.until !== undefined) where.parts.push(`at < ${where.param(query.until)}`)
  if (query.cursor !== undefined) where.parts.push(`id < ${where.param(decodeLogCursor(query.cursor))}`)
  const limit = where.param(query.limit + 1)
  return {
    text: `SELECT id, task_id, agent_id, at, level, message FROM task_logs ${where.clause} ORDER BY id DESC LIMIT ${limit}`,
    values: where.values,
  }
}
