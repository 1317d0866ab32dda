/**
 * The operator's records (operator-store.ts) in the SQLite history file, on
 * the history's own connection: better-sqlite3 is synchronous, so each call
 * is done, or thrown, when it returns.
 */
import type Database from 'better-sqlite3'
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

const clause = (where: readonly string[]) => (where.length > 0 ? `WHERE ${where.join(' AND ')}` : '')

export class SqliteOperatorStore implements OperatorStore {
  constructor(private readonly db: () => Database.Database) {}

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    const db = this.db()
    const insert = db.prepare(
      `INSERT INTO audit (at, actor, role, address, via, action, target, outcome, code, message)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    db.transaction(() => {
      for (const r of records) {
        insert.run(r.at, r.actor, r.role, r.address, r.via, r.action, r.target, r.outcome, r.code, r.message)
      }
    })()
  }

  async audit(query: AuditQuery): Promise<AuditPage> {
    const db = this.db()
    const { where, params } = auditFilter(query)
    const total = rowsOf(
      TotalRowSchema,
      db.prepare(`SELECT count(*) AS total FROM audit ${clause(where)}`).all(params),
      'audit',
    )[0]!.total
    if (query.cursor !== undefined) {
      where.push('id < ?')
      params.push(auditCursor(query.cursor))
    }
    const rows = db
      .prepare(`SELECT * FROM audit ${clause(where)} ORDER BY id DESC LIMIT ?`)
      .all(...params, query.limit + 1)
    return auditPage(rowsOf(AuditRowSchema, rows, 'audit'), query.limit, total)
  }

  async pruneAudit(cutoff: number, maxEntries: number): Promise<number> {
    const db = this.db()
    return db.transaction(() => {
      // The id of the newest entry beyond the bound: it and everything older go.
      const beyond = rowsOf(
        ThresholdRowSchema,
        db.prepare('SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?').all(maxEntries),
        'audit',
      )[0]
      return db.prepare('DELETE FROM audit WHERE at < ? OR id <= ?').run(cutoff, beyond?.id ?? 0).changes
    })()
  }

  async views(): Promise<SavedView[]> {
    const rows = this.db().prepare('SELECT * FROM saved_views ORDER BY name_key').all()
    return rowsOf(ViewRowSchema, rows, 'saved_views').map(viewOf)
  }

  async saveView(view: SavedView, maxViews: number): Promise<{ outcome: SaveViewOutcome; view: SavedView }> {
    const db = this.db()
    const key = view.name.toLowerCase()
    return db.transaction(() => {
      const existing = rowsOf(
        ViewRowSchema,
        db.prepare('SELECT * FROM saved_views WHERE name_key = ?').all(key),
        'saved_views',
      )[0]
      if (existing) {
        const saved = { ...view, id: existing.id }
        db.prepare(
          'UPDATE saved_views SET name = ?, view = ?, params = ?, created_by = ?, created_at = ? WHERE id = ?',
        ).run(saved.name, saved.view, JSON.stringify(saved.params), saved.createdBy, saved.createdAt, saved.id)
        return { outcome: 'replaced' as const, view: saved }
      }
      const count = rowsOf(
        TotalRowSchema,
        db.prepare('SELECT count(*) AS total FROM saved_views').all(),
        'saved_views',
      )[0]!.total
      if (count >= maxViews) return { outcome: 'full' as const, view }
      db.prepare(
        'INSERT INTO saved_views (id, name, name_key, view, params, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(view.id, view.name, key, view.view, JSON.stringify(view.params), view.createdBy, view.createdAt)
      return { outcome: 'created' as const, view }
    })()
  }

  async deleteView(id: string): Promise<SavedView | null> {
    const db = this.db()
    return db.transaction(() => {
      const row = rowsOf(ViewRowSchema, db.prepare('SELECT * FROM saved_views WHERE id = ?').all(id), 'saved_views')[0]
      if (!row) return null
      db.prepare('DELETE FROM saved_views WHERE id = ?').run(id)
      return viewOf(row)
    })()
  }

  async kindLimits(): Promise<StoredKindLimits[]> {
    const rows = this.db().prepare('SELECT * FROM kind_limits ORDER BY kind').all()
    return rowsOf(KindLimitsRowSchema, rows, 'kind_limits').map(kindLimitsOf)
  }

  async saveKindLimits(limits: StoredKindLimits, at: number): Promise<void> {
    const db = this.db()
    if (isDefaultLimits(limits)) {
      db.prepare('DELETE FROM kind_limits WHERE kind = ?').run(limits.kind)
      return
    }
    db.prepare(
      `INSERT INTO kind_limits (kind, paused, max_running, max_per_minute, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind) DO UPDATE SET paused = excluded.paused, max_running = excluded.max_running,
         max_per_minute = excluded.max_per_minute, updated_at = excluded.updated_at`,
    ).run(limits.kind, limits.paused ? 1 : 0, limits.maxRunning, limits.maxPerMinute, at)
  }

  async schedules(): Promise<StoredSchedule[]> {
    const rows = this.db().prepare('SELECT data FROM schedules ORDER BY created_at, id').all()
    return rowsOf(ScheduleRowSchema, rows, 'schedules').map(scheduleOf)
  }

  async saveSchedule(schedule: StoredSchedule): Promise<void> {
    this.db()
      .prepare(
        'INSERT INTO schedules (id, created_at, data) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      )
      .run(schedule.id, schedule.createdAt, JSON.stringify(schedule))
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return this.db().prepare('DELETE FROM schedules WHERE id = ?').run(id).changes > 0
  }

  async appendSamples(stepMs: number, samples: readonly MetricsSample[]): Promise<void> {
    const db = this.db()
    const upsert = db.prepare(
      'INSERT INTO metric_samples (step_ms, at, data) VALUES (?, ?, ?) ON CONFLICT (step_ms, at) DO UPDATE SET data = excluded.data',
    )
    db.transaction(() => {
      for (const sample of samples) upsert.run(stepMs, sample.at, JSON.stringify(sample))
    })()
  }

  async samples(stepMs: number, from: number, to: number): Promise<MetricsSample[]> {
    const rows = this.db()
      .prepare('SELECT data FROM metric_samples WHERE step_ms = ? AND at >= ? AND at < ? ORDER BY at')
      .all(stepMs, from, to)
    return samplesOf(rows)
  }

  async pruneSamples(stepMs: number, cutoff: number): Promise<number> {
    return this.db().prepare('DELETE FROM metric_samples WHERE step_ms = ? AND at < ?').run(stepMs, cutoff).changes
  }
}
