/**
 * The query strings of the history routes, checked: `GET /api/tasks`,
 * `GET /api/logs` and `GET /api/tasks/export`. Strict (an unknown key is a
 * `400` naming it), every value bounded, times as epoch ms or ISO 8601, `q`
 * parsed by the one search language (src/shared/search.ts), so the storage
 * below is only ever handed words.
 */
import { z } from 'zod'
import { TaskStatusSchema } from '../../../shared/domain'
import { EXPORT_FORMATS, HISTORY_API_LIMITS } from '../../../shared/history-api'
import { parseSearch } from '../../../shared/search'
import { LOG_LEVELS } from '../../../shared/statuses'

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/

/** Epoch ms, or an ISO 8601 date or time (without a zone: UTC). */
const Moment = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    let ms: number | null = null
    if (/^\d{1,15}$/.test(value)) ms = Number(value)
    else if (ISO_TIME.test(value)) {
      const parsed = Date.parse(/T.*(Z|[+-]\d{2}:\d{2})$/.test(value) || !value.includes('T') ? value : `${value}Z`)
      ms = Number.isNaN(parsed) ? null : parsed
    }
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be epoch milliseconds or an ISO 8601 time, e.g. 2026-12-01T08:00:00Z',
      })
      return z.NEVER
    }
    return ms
  })

const Search = z
  .string()
  .max(1000)
  .transform((q, ctx) => {
    const parsed = parseSearch(q)
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.problem })
      return z.NEVER
    }
    return parsed.terms
  })

/** A comma-separated list of `item`s, each once. */
const list = <T extends string>(item: z.ZodType<T, string>, max: number) =>
  z
    .string()
    .max(200)
    .transform((value) => [...new Set(value.split(',').map((part) => part.trim()))])
    .pipe(z.array(item).min(1).max(max))

const Name = z.string().min(1).max(128)
const Cursor = z.string().min(1).max(40)
const pageSize = (bounds: { default: number; max: number }) =>
  z.coerce.number().int().min(1).max(bounds.max).default(bounds.default)

function timeWindow<T extends { since?: number; until?: number }>(value: T, ctx: z.RefinementCtx): void {
  if (value.since !== undefined && value.until !== undefined && value.since >= value.until) {
    ctx.addIssue({ code: 'custom', path: ['since'], message: 'must be before until' })
  }
}

const taskFilter = {
  q: Search.optional(),
  status: list(TaskStatusSchema, 7).optional(),
  kind: Name.optional(),
  agent: Name.optional(),
  since: Moment.optional(),
  until: Moment.optional(),
}

export const TaskListQuerySchema = z
  .object({ ...taskFilter, limit: pageSize(HISTORY_API_LIMITS.tasksPerPage), cursor: Cursor.optional() })
  .strict()
  .superRefine(timeWindow)

export const TaskExportQuerySchema = z
  .object({ ...taskFilter, format: z.enum(EXPORT_FORMATS).default('csv') })
  .strict()
  .superRefine(timeWindow)

export const LogListQuerySchema = z
  .object({
    q: Search.optional(),
    task: Name.optional(),
    agent: Name.optional(),
    level: list(z.enum(LOG_LEVELS), LOG_LEVELS.length).optional(),
    since: Moment.optional(),
    until: Moment.optional(),
    limit: pageSize(HISTORY_API_LIMITS.linesPerPage),
    cursor: Cursor.optional(),
  })
  .strict()
  .superRefine(timeWindow)

export type TaskListQuery = z.output<typeof TaskListQuerySchema>
export type TaskExportQuery = z.output<typeof TaskExportQuerySchema>
