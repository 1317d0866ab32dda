/**
 * Schedules over HTTP: everyone with a token reads them and previews a cron,
 * operators create, pause, resume, run and delete them through the command
 * table (operator-commands.ts), so HTTP and Socket.IO refuse, answer and
 * audit alike. A schedule's task or workflow may be as large as a workflow
 * submission, so the create route takes that body limit.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { describeIssues } from '../../../shared/commands'
import { SCHEDULE_LIMITS, type SchedulePreview } from '../../../shared/schedules'
import { WORKFLOW_LIMITS } from '../../../shared/workflows'
import { isCronProblem, parseCron } from '../schedules/cron'
import type { ScheduleBook } from '../schedules/schedule-book'
import { SchedulePreviewSchema } from '../schedules/schedule-input'
import { runCommand, type CommandContext } from './operator-commands'
import { sendError, sendResult } from './replies'

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

export interface ScheduleRouteDeps {
  schedules: ScheduleBook
  readers: { onRequest: Hook }
  writers: { onRequest: Hook }
  context(request: FastifyRequest): CommandContext
  messageBytes: number
}

const ParamsSchema = z.object({ id: z.string().min(1).max(128) }).strict()

export function registerScheduleRoutes(app: FastifyInstance, deps: ScheduleRouteDeps): void {
  const { schedules, readers, writers } = deps
  const context = (request: FastifyRequest): CommandContext => ({ ...deps.context(request), schedules })

  app.get('/api/schedules', readers, async () => ({ schedules: schedules.list() }))

  app.get('/api/schedules/:id', readers, async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
    const found = schedules.list().find((schedule) => schedule.id === params.data.id)
    return found ?? sendError(reply, 'not_found', `no schedule ${params.data.id}`)
  })

  // Before `/:id` routes could take it: a fixed path wins in Fastify's router anyway.
  app.post('/api/schedules/preview', readers, async (request, reply) => {
    const parsed = SchedulePreviewSchema.safeParse(request.body)
    if (!parsed.success) return sendError(reply, 'bad_request', describeIssues(parsed.error))
    const spec = parseCron(parsed.data.cron, parsed.data.timezone)
    if (isCronProblem(spec)) return sendError(reply, 'bad_request', `${spec.field}: ${spec.message}`)
    const preview: SchedulePreview = { nextRuns: spec.next(Date.now(), SCHEDULE_LIMITS.preview) }
    return preview
  })

  app.post(
    '/api/schedules',
    { ...writers, bodyLimit: Math.max(deps.messageBytes, WORKFLOW_LIMITS.bodyBytes) },
    async (request, reply) =>
      sendResult(reply, await runCommand('schedule:create', request.body, context(request)), 201),
  )

  for (const [path, command] of [
    ['pause', 'schedule:pause'],
    ['resume', 'schedule:resume'],
    ['run', 'schedule:run'],
  ] as const) {
    app.post(`/api/schedules/:id/${path}`, writers, async (request, reply) => {
      const params = ParamsSchema.safeParse(request.params)
      if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
      return sendResult(reply, await runCommand(command, { scheduleId: params.data.id }, context(request)))
    })
  }

  app.delete('/api/schedules/:id', writers, async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
    return sendResult(reply, await runCommand('schedule:delete', { scheduleId: params.data.id }, context(request)))
  })
}
