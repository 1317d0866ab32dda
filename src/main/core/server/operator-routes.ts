/**
 * The operator's HTTP routes beside the swarm's: the audit trail (operators
 * only), saved views (everyone reads, operators save and delete, both
 * audited) and metric history over long ranges. Every query and body is
 * validated; a store that cannot answer is `503`.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { AUDIT_LIMITS, AUDIT_OUTCOMES } from '../../../shared/audit'
import { describeIssues } from '../../../shared/commands'
import { ROLES } from '../../../shared/domain'
import { METRIC_RANGES, METRIC_TIERS } from '../../../shared/metric-ranges'
import { fail, ok, type Result } from '../../../shared/result'
import {
  SAVED_VIEW_KEY_PATTERN,
  SAVED_VIEW_LIMITS,
  SAVED_VIEW_PAGES,
  type SavedView,
} from '../../../shared/saved-views'
import type { OperatorRecords } from '../pipeline/pipeline'
import { HistoryQueryError } from '../storage/history'
import { recordAction } from './audited'
import { sendError, sendResult } from './replies'

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

export interface OperatorRouteDeps {
  records: OperatorRecords
  /** The role checks of http.ts: viewers and operators; operators only. */
  readers: { onRequest: Hook }
  writers: { onRequest: Hook }
}

/** Control characters: they would garble the picker, the logs, a terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** Text a person typed, without control characters. */
const printable = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((text) => !CONTROL.test(text), 'must not contain control characters')

const epochMs = z.coerce.number().int().min(0).max(8_640_000_000_000_000)

const AuditQuerySchema = z
  .object({
    actor: z.string().min(1).max(64).optional(),
    role: z.enum(ROLES).optional(),
    action: z.string().min(1).max(AUDIT_LIMITS.actionLength).optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    target: z.string().min(1).max(AUDIT_LIMITS.targetLength).optional(),
    since: epochMs.optional(),
    until: epochMs.optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_LIMITS.pageMax).default(AUDIT_LIMITS.pageDefault),
    cursor: z.string().min(1).max(40).optional(),
  })
  .strict()

export const SavedViewInputSchema = z
  .object({
    name: printable(SAVED_VIEW_LIMITS.nameLength, 1).refine((name) => name.trim() === name && name !== '', {
      message: 'must not start or end with spaces',
    }),
    view: z.enum(SAVED_VIEW_PAGES),
    params: z
      .record(
        z.string().max(SAVED_VIEW_LIMITS.keyLength).regex(SAVED_VIEW_KEY_PATTERN),
        printable(SAVED_VIEW_LIMITS.valueLength),
      )
      .refine((params) => Object.keys(params).length <= SAVED_VIEW_LIMITS.params, {
        message: `at most ${SAVED_VIEW_LIMITS.params} parameters`,
      })
      .default({}),
  })
  .strict()
  .superRefine((input, context) => {
    for (const key of Object.keys(input.params)) {
      if (!key.startsWith(`${input.view}.`)) {
        context.addIssue({
          code: 'custom',
          path: ['params', key],
          message: `a ${input.view} view's keys start with "${input.view}."`,
        })
      }
    }
  })

const ViewParamsSchema = z.object({ id: z.string().min(1).max(64) }).strict()

/** The longest span `GET /api/metrics` serves: the minute tier's week, and an hour of slack. */
const MAX_SPAN_MS = METRIC_TIERS[METRIC_TIERS.length - 1]!.keepMs + 3_600_000

const MetricsQuerySchema = z
  .object({
    range: z.enum(METRIC_RANGES).optional(),
    from: epochMs.optional(),
    to: epochMs.optional(),
  })
  .strict()
  .superRefine((query, context) => {
    const span = query.from !== undefined || query.to !== undefined
    if (query.range !== undefined && span) {
      context.addIssue({ code: 'custom', message: 'give range, or from and to, not both' })
    } else if (query.range === undefined && (query.from === undefined || query.to === undefined)) {
      context.addIssue({
        code: 'custom',
        message: `give range (${METRIC_RANGES.join(', ')}), or from and to (epoch ms)`,
      })
    } else if (span && query.to! <= query.from!) {
      context.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' })
    } else if (span && query.to! - query.from! > MAX_SPAN_MS) {
      context.addIssue({ code: 'custom', path: ['from'], message: 'the span is longer than the week kept' })
    }
  })

/** A store's failure as an answer: a bad cursor is the client's, anything else the database's. */
function storeError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof HistoryQueryError) return sendError(reply, 'bad_request', error.message)
  return sendError(reply, 'unavailable', `the history database could not answer: ${(error as Error).message}`)
}

export function registerOperatorRoutes(app: FastifyInstance, deps: OperatorRouteDeps): void {
  const { records, readers, writers } = deps

  app.get('/api/audit', writers, async (request, reply) => {
    const query = AuditQuerySchema.safeParse(request.query)
    if (!query.success) return sendError(reply, 'bad_request', describeIssues(query.error))
    try {
      return await records.audit.query(query.data)
    } catch (error) {
      return storeError(reply, error)
    }
  })

  app.get('/api/views', readers, async (_request, reply) => {
    try {
      return { views: await records.store.views() }
    } catch (error) {
      return storeError(reply, error)
    }
  })

  app.post('/api/views', writers, async (request, reply) => {
    const parsed = SavedViewInputSchema.safeParse(request.body)
    const name =
      typeof (request.body as { name?: unknown } | null)?.name === 'string'
        ? (request.body as { name: string }).name
        : null
    const audited = { actor: request.actor ?? undefined, audit: records.audit }
    if (!parsed.success) {
      const refused = fail('bad_request', describeIssues(parsed.error))
      recordAction(audited, 'view:save', name, refused)
      return sendResult(reply, refused)
    }
    const view: SavedView = {
      ...parsed.data,
      id: randomUUID(),
      createdBy: request.actor?.name ?? 'unknown',
      createdAt: Date.now(),
    }
    let result: Result<SavedView>
    let status = 201
    try {
      const saved = await records.store.saveView(view, SAVED_VIEW_LIMITS.views)
      if (saved.outcome === 'full') {
        result = fail(
          'conflict',
          `${SAVED_VIEW_LIMITS.views} views are saved, the most a server keeps: delete one first, or save under an existing name to replace it`,
        )
      } else {
        result = ok(saved.view)
        if (saved.outcome === 'replaced') status = 200
      }
    } catch (error) {
      recordAction(audited, 'view:save', view.name, fail('unavailable', (error as Error).message))
      return storeError(reply, error)
    }
    recordAction(audited, 'view:save', view.name, result)
    return sendResult(reply, result, status)
  })

  app.delete('/api/views/:id', writers, async (request, reply) => {
    const audited = { actor: request.actor ?? undefined, audit: records.audit }
    const params = ViewParamsSchema.safeParse(request.params)
    if (!params.success) {
      const refused = fail('bad_request', describeIssues(params.error))
      recordAction(audited, 'view:delete', null, refused)
      return sendResult(reply, refused)
    }
    const { id } = params.data
    let result: Result<SavedView>
    try {
      const gone = await records.store.deleteView(id)
      result = gone ? ok(gone) : fail('not_found', `no saved view ${id}`)
    } catch (error) {
      recordAction(audited, 'view:delete', id, fail('unavailable', (error as Error).message))
      return storeError(reply, error)
    }
    recordAction(audited, 'view:delete', result.ok ? result.data.name : id, result)
    return sendResult(reply, result)
  })

  app.get('/api/metrics', readers, async (request, reply) => {
    const query = MetricsQuerySchema.safeParse(request.query)
    if (!query.success) return sendError(reply, 'bad_request', describeIssues(query.error))
    const { range, from, to } = query.data
    try {
      return await records.metrics.query(range ? { range } : { from: from!, to: to! })
    } catch (error) {
      return storeError(reply, error)
    }
  })
}
