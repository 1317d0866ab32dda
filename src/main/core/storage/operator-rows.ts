/**
 * Rows of the operator's tables read back (operator-store.ts), parsed with
 * the schemas here for both backends, never cast.
 */
import { z } from 'zod'
import { AUDIT_CHANNELS, AUDIT_OUTCOMES, type AuditEntry, type AuditPage, type AuditQuery } from '../../../shared/audit'
import { AGENT_STATUSES, type MetricsSample } from '../../../shared/domain'
import { ERROR_CODES } from '../../../shared/result'
import { SAVED_VIEW_PAGES, type SavedView } from '../../../shared/saved-views'
import type { StoredSchedule } from './schedule-store'
import { HistoryQueryError } from './history'
import type { StoredKindLimits } from './operator-store'

/** SQLite gives numbers; PostgreSQL gives `bigint` columns as strings (exact). */
const integer = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d{1,16}$/)
    .transform(Number),
])
const ROLES = ['operator', 'viewer', 'agent'] as const

export const AuditRowSchema = z.object({
  id: integer,
  at: integer,
  actor: z.string().nullable(),
  role: z.enum(ROLES).nullable(),
  address: z.string(),
  via: z.enum(AUDIT_CHANNELS),
  action: z.string(),
  target: z.string().nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  code: z.enum(ERROR_CODES).nullable(),
  message: z.string().nullable(),
}) satisfies z.ZodType<AuditEntry, unknown>

export const TotalRowSchema = z.object({ total: integer })
export const ThresholdRowSchema = z.object({ id: integer })

/** The WHERE of an audit query, without its cursor; `?` placeholders. */
export function auditFilter(query: AuditQuery): { where: string[]; params: (string | number)[] } {
  const where: string[] = []
  const params: (string | number)[] = []
  const equal: [string, string | undefined][] = [
    ['actor', query.actor],
    ['role', query.role],
    ['action', query.action],
    ['outcome', query.outcome],
    ['target', query.target],
  ]
  for (const [column, value] of equal) {
    if (value === undefined) continue
    where.push(`${column} = ?`)
    params.push(value)
  }
  if (query.since !== undefined) {
    where.push('at >= ?')
    params.push(query.since)
  }
  if (query.until !== undefined) {
    where.push('at < ?')
    params.push(query.until)
  }
  return { where, params }
}

/** A page from `limit + 1` rows, newest first: the extra one says there is an older page. */
export function auditPage(rows: readonly AuditEntry[], limit: number, total: number): AuditPage {
  const entries = rows.slice(0, limit)
  const last = entries.at(-1)
  return { entries, total, next: rows.length > limit && last ? String(last.id) : null }
}

/** An audit cursor: the id of the last entry handed out. */
export function auditCursor(cursor: string): number {
  if (!/^\d{1,16}$/.test(cursor)) {
    throw new HistoryQueryError(`cursor ${cursor.slice(0, 40)} is not one a page handed out`)
  }
  return Number(cursor)
}

export const ViewRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  view: z.enum(SAVED_VIEW_PAGES),
  params: z.string(),
  created_by: z.string(),
  created_at: integer,
})

const ParamsSchema = z.record(z.string(), z.string())

export function viewOf(row: z.output<typeof ViewRowSchema>): SavedView {
  let params: unknown
  try {
    params = JSON.parse(row.params)
  } catch {
    params = null
  }
  const parsed = ParamsSchema.safeParse(params)
  if (!parsed.success)
    throw new Error(`saved view ${row.id} is stored, but its parameters are not what this program wrote`)
  return {
    id: row.id,
    name: row.name,
    view: row.view,
    params: parsed.data,
    createdBy: row.created_by,
    createdAt: row.created_at,
  }
}

const count = z.number().int().min(0)
const MetricsSampleSchema = z.object({
  at: z.number(),
  agents: z.object(
    Object.fromEntries(AGENT_STATUSES.map((s) => [s, count])) as Record<(typeof AGENT_STATUSES)[number], typeof count>,
  ),
  queued: z.number(),
  running: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  throughput: z.number(),
  durationP50Ms: z.number().nullable().optional(),
  durationP95Ms: z.number().nullable().optional(),
}) satisfies z.ZodType<MetricsSample, unknown>

export const SampleRowSchema = z.object({ data: z.string() })

/** The stored samples that parse; a damaged one leaves a gap in a chart rather than failing it. */
export function samplesOf(rows: readonly unknown[]): MetricsSample[] {
  const samples: MetricsSample[] = []
  for (const row of rows) {
    const stored = SampleRowSchema.safeParse(row)
    if (!stored.success) continue
    let json: unknown
    try {
      json = JSON.parse(stored.data.data)
    } catch {
      continue
    }
    const parsed = MetricsSampleSchema.safeParse(json)
    if (parsed.success) samples.push(parsed.data)
  }
  return samples
}

/** SQLite stores a boolean as 0 or 1; PostgreSQL as a boolean. */
const flag = z.union([z.boolean(), z.literal(0).transform(() => false), z.literal(1).transform(() => true)])
const limit = z.number().int().nullable()

export const KindLimitsRowSchema = z.object({
  kind: z.string(),
  paused: flag,
  max_running: limit,
  max_per_minute: limit,
})

export function kindLimitsOf(row: z.output<typeof KindLimitsRowSchema>): StoredKindLimits {
  return { kind: row.kind, paused: row.paused, maxRunning: row.max_running, maxPerMinute: row.max_per_minute }
}

/** A schedule's row: its state as the book wrote it (the book is its only writer). */
export const ScheduleRowSchema = z.object({ data: z.string() })

export function scheduleOf(row: z.output<typeof ScheduleRowSchema>): StoredSchedule {
  return JSON.parse(row.data) as StoredSchedule
}
