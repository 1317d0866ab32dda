/**
 * The operator's records (operator-store.ts) in the PostgreSQL history
 * database, through the history's pool. Row sets go as arrays (`unnest`), as
 * the history's commits do.
 */
import type { Pool, PoolClient } from 'pg'
import type { AuditPage, AuditQuery, AuditRecord } from '../../../shared/audit'
import type { MetricsSample } from '../../../shared/domain'
import { isDefaultLimits } from '../../../shared/kinds'
import type { SavedView } from '../../../shared/saved-views'
import type { StoredSchedule } from './schedule-store'
import { rowsOf } from './rows'
import type { OperatorStore, SaveViewOutcome, StoredKindLimits } from './operator-store'
import {
  auditCursor,
  auditFilter,
  auditPage,
  AuditRowSchema,
  kindLimitsOf,
  KindLimitsRowSchema,
  samplesOf,
  scheduleOf,
  ScheduleRowSchema,
  ThresholdRowSchema,
  TotalRowSchema,
  viewOf,
  ViewRowSchema,
} from './operator-rows'
import { inTransaction } from './pg-transaction'

/** `?` placeholders as PostgreSQL's `$1, $2, …`. */
const numbered = (sql: string) => {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}
const clause = (where: readonly string[]) => (where.length > 0 ? `WHERE ${where.join(' AND ')}` : '')

export class PostgresOperatorStore implements OperatorStore {
  constructor(private readonly pool: Pool) {}

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return
    const column = <K extends keyof AuditRecord>(key: K) => records.map((r) => r[key])
    await this.pool.query(
      `INSERT INTO audit (at, actor, role, address, via, action, target, outcome, code, message)
       SELECT at, actor, role, address, via, action, target, outcome, code, message
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[])
         WITH ORDINALITY AS u (at, actor, role, address, via, action, target, outcome, code, message, n)
       ORDER BY n`,
      [
        column('at'),
        column('actor'),
        column('role'),
        column('address'),
        column('via'),
        column('action'),
        column('target'),
        column('outcome'),
        column('code'),
        column('message'),
      ],
    )
  }

  async audit(query: AuditQuery): Promise<AuditPage> {
    const { where, params } = auditFilter(query)
    const counted = await this.pool.query(numbered(`SELECT count(*) AS total FROM audit ${clause(where)}`), params)
    const total = rowsOf(TotalRowSchema, counted.rows, 'audit')[0]!.total
    if (query.cursor !== undefined) {
      where.push('id < ?')
      params.push(auditCursor(query.cursor))
    }
    const page = await this.pool.query(numbered(`SELECT * FROM audit ${clause(where)} ORDER BY id DESC LIMIT ?`), [
      ...params,
      query.limit + 1,
    ])
    return auditPage(rowsOf(AuditRowSchema, page.rows, 'audit'), query.limit, total)
  }

  async pruneAudit(cutoff: number, maxEntries: number): Promise<number> {
    return this.transaction(async (client) => {
      const beyond = await client.query('SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET $1', [maxEntries])
      const id = rowsOf(ThresholdRowSchema, beyond.rows, 'audit')[0]?.id ?? 0
      const gone = await client.query('DELETE FROM audit WHERE at < $1 OR id <= $2', [cutoff, id])
      return gone.rowCount ?? 0
    })
  }

  async views(): Promise<SavedView[]> {
    const { rows } = await this.pool.query('SELECT * FROM saved_views ORDER BY name_key')
    return rowsOf(ViewRowSchema, rows, 'saved_views').map(viewOf)
  }

  async saveView(view: SavedView, maxViews: number): Promise<{ outcome: SaveViewOutcome; view: SavedView }> {
    const key = view.name.toLowerCase()
    return this.transaction(async (client) => {
      // Two saves at once must not both find room for the last view.
      await client.query('LOCK TABLE saved_views IN SHARE ROW EXCLUSIVE MODE')
      const found = await client.query('SELECT * FROM saved_views WHERE name_key = $1', [key])
      const existing = rowsOf(ViewRowSchema, found.rows, 'saved_views')[0]
      if (existing) {
        const saved = { ...view, id: existing.id }
        await client.query(
          'UPDATE saved_views SET name = $1, view = $2, params = $3, created_by = $4, created_at = $5 WHERE id = $6',
          [saved.name, saved.view, JSON.stringify(saved.params), saved.createdBy, saved.createdAt, saved.id],
        )
        return { outcome: 'replaced' as const, view: saved }
      }
      const counted = await client.query('SELECT count(*) AS total FROM saved_views')
      if (rowsOf(TotalRowSchema, counted.rows, 'saved_views')[0]!.total >= maxViews) {
        return { outcome: 'full' as const, view }
      }
      await client.query(
        `INSERT INTO saved_views (id, name, name_key, view, params, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [view.id, view.name, key, view.view, JSON.stringify(view.params), view.createdBy, view.createdAt],
      )
      return { outcome: 'created' as const, view }
    })
  }

  async deleteView(id: string): Promise<SavedView | null> {
    const { rows } = await this.pool.query('DELETE FROM saved_views WHERE id = $1 RETURNING *', [id])
    const row = rowsOf(ViewRowSchema, rows, 'saved_views')[0]
    return row ? viewOf(row) : null
  }

  async kindLimits(): Promise<StoredKindLimits[]> {
    const { rows } = await this.pool.query('SELECT * FROM kind_limits ORDER BY kind')
    return rowsOf(KindLimitsRowSchema, rows, 'kind_limits').map(kindLimitsOf)
  }

  async saveKindLimits(limits: StoredKindLimits, at: number): Promise<void> {
    if (isDefaultLimits(limits)) {
      await this.pool.query('DELETE FROM kind_limits WHERE kind = $1', [limits.kind])
      return
    }
    await this.pool.query(
      `INSERT INTO kind_limits (kind, paused, max_running, max_per_minute, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (kind) DO UPDATE SET paused = excluded.paused, max_running = excluded.max_running,
         max_per_minute = excluded.max_per_minute, updated_at = excluded.updated_at`,
      [limits.kind, limits.paused, limits.maxRunning, limits.maxPerMinute, at],
    )
  }

  async schedules(): Promise<StoredSchedule[]> {
    const { rows } = await this.pool.query('SELECT data FROM schedules ORDER BY created_at, id')
    return rowsOf(ScheduleRowSchema, rows, 'schedules').map(scheduleOf)
  }

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    await this.pool.query(
      'INSERT INTO schedules (id, created_at, data) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      [schedule.id, schedule.createdAt, JSON.stringify(schedule)],
    )
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM schedules WHERE id = $1', [id])).rowCount ?? 0) > 0
  }

  async appendSamples(stepMs: number, samples: readonly MetricsSample[]): Promise<void> {
    if (samples.length === 0) return
    await this.pool.query(
      `INSERT INTO metric_samples (step_ms, at, data)
       SELECT $1, at, data FROM unnest($2::bigint[], $3::text[]) AS u (at, data)
       ON CONFLICT (step_ms, at) DO UPDATE SET data = excluded.data`,
      [stepMs, samples.map((s) => s.at), samples.map((s) => JSON.stringify(s))],
    )
  }

  async samples(stepMs: number, from: number, to: number): Promise<MetricsSample[]> {
    const { rows } = await this.pool.query(
      'SELECT data FROM metric_samples WHERE step_ms = $1 AND at >= $2 AND at < $3 ORDER BY at',
      [stepMs, from, to],
    )
    return samplesOf(rows)
  }

  async pruneSamples(stepMs: number, cutoff: number): Promise<number> {
    const gone = await this.pool.query('DELETE FROM metric_samples WHERE step_ms = $1 AND at < $2', [stepMs, cutoff])
    return gone.rowCount ?? 0
  }

  private transaction<T>(body: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, body)
  }
}
