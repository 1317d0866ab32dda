/**
 * The history routes, for viewers and operators alike (reads, under the same
 * rate limit as the rest of the API): `GET /api/tasks` (live tasks from
 * memory, or the stored ones when the query asks what only the history
 * knows), `GET /api/logs` (stored log lines) and `GET /api/tasks/export`
 * (CSV or JSON Lines, streamed page by page from the database). Shapes:
 * src/shared/history-api.ts; query checks: history-query.ts.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, RouteShorthandOptions } from 'fastify'
import { describeIssues } from '../../../shared/commands'
import type { Task } from '../../../shared/domain'
import { HISTORY_API_LIMITS, type LogListAnswer, type TaskListAnswer } from '../../../shared/history-api'
import type { ErrorCode } from '../../../shared/result'
import type { Logger } from '../logger'
import type { SwarmState } from '../pipeline/snapshot'
import { HistoryQueryError, HistoryUnavailableError } from '../storage/history'
import { LogListQuerySchema, TaskExportQuerySchema, TaskListQuerySchema } from './history-query'
import { EXPORT_CONTENT_TYPE, exportChunks } from './task-export'

export interface HistoryRouteDeps {
  state: Pick<SwarmState, 'coordinator' | 'history'>
  logger: Pick<Logger, 'warn'>
  /** The route options that admit viewers and operators. */
  readers: RouteShorthandOptions
  sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply
}

/** A history that cannot answer, or a cursor it never handed out; anything else is a real failure. */
function refusal(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof HistoryQueryError) return { code: 'bad_request', message: error.message }
  if (error instanceof HistoryUnavailableError) return { code: 'unavailable', message: error.message }
  throw error
}

export function registerHistoryRoutes(app: FastifyInstance, deps: HistoryRouteDeps): void {
  const { state, readers, sendError } = deps
  const agentName = (agentId: string) => state.coordinator.getAgent(agentId)?.name

  app.get('/api/tasks', readers, async (request, reply) => {
    const query = TaskListQuerySchema.safeParse(request.query)
    if (!query.success) return sendError(reply, 'bad_request', describeIssues(query.error))
    const { q, status, kind, agent, since, until, limit, cursor } = query.data
    const retention = state.history.retention()
    const historyOnly =
      [q, kind, since, until, cursor].some((value) => value !== undefined) || (status?.length ?? 0) > 1
    if (!historyOnly) {
      const live = state.coordinator.listTasks({ status: status?.[0], agentId: agent, limit })
      return { ...live, next: null, source: 'memory', retention } satisfies TaskListAnswer
    }
    try {
      const page = await state.history.list({ search: q, status, kind, agentId: agent, since, until, limit, cursor })
      return { ...page, source: 'history', retention } satisfies TaskListAnswer
    } catch (error) {
      const { code, message } = refusal(error)
      return sendError(reply, code, message)
    }
  })

  app.get('/api/logs', readers, async (request, reply) => {
    const query = LogListQuerySchema.safeParse(request.query)
    if (!query.success) return sendError(reply, 'bad_request', describeIssues(query.error))
    const { q, task, agent, level, since, until, limit, cursor } = query.data
    try {
      const page = await state.history.logs({
        search: q,
        taskId: task,
        agentId: agent,
        levels: level,
        since,
        until,
        limit,
        cursor,
      })
      return page satisfies LogListAnswer
    } catch (error) {
      const { code, message } = refusal(error)
      return sendError(reply, code, message)
    }
  })

  let exporting = 0
  app.get('/api/tasks/export', readers, async (request, reply) => {
    const query = TaskExportQuerySchema.safeParse(request.query)
    if (!query.success) return sendError(reply, 'bad_request', describeIssues(query.error))
    const { format, q, status, kind, agent, since, until } = query.data
    const { concurrentExports, exportPageSize } = HISTORY_API_LIMITS
    if (exporting >= concurrentExports) {
      return sendError(
        reply,
        'rate_limited',
        `${concurrentExports} exports are running at once, the most this server takes; retry when one has finished`,
      )
    }
    const pages = state.history.scan({ search: q, status, kind, agentId: agent, since, until }, exportPageSize)
    // The first page before the answer starts: a history that cannot answer still gets a proper 503.
    let first: Task[]
    try {
      const step = await pages.next()
      first = step.done ? [] : step.value
    } catch (error) {
      const { code, message } = refusal(error)
      return sendError(reply, code, message)
    }
    exporting++
    reply.raw.once('close', () => exporting--)
    const body = Readable.from(exportChunks(format, first, pages, agentName), { highWaterMark: 1 })
    // Headers are gone by then: the client sees a cut-off transfer, never a complete-looking short file.
    body.once('error', (error) => deps.logger.warn({ err: error }, 'task export failed midway; the transfer was cut'))
    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    return reply
      .type(EXPORT_CONTENT_TYPE[format])
      .header('content-disposition', `attachment; filename="swarm-tasks-${stamp}.${format}"`)
      .header('cache-control', 'no-store')
      .send(body)
  })
}
