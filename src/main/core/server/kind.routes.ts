/**
 * Per-kind limits over HTTP: everyone with a token reads the kinds, operators
 * change one through the command table (`kind:update`, operator-commands.ts),
 * so HTTP and Socket.IO refuse, answer and audit alike.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { describeIssues } from '../../../shared/commands'
import { TASK_LIMITS } from '../../../shared/task-limits'
import type { Coordinator } from '../coordinator/coordinator'
import { runCommand, type CommandContext } from './operator-commands'
import { sendError, sendResult } from './replies'

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

export interface KindRouteDeps {
  coordinator: Coordinator
  readers: { onRequest: Hook }
  writers: { onRequest: Hook }
  /** The command context of a request (its role, actor). */
  context(request: FastifyRequest): CommandContext
}

const ParamsSchema = z.object({ kind: z.string().min(1).max(TASK_LIMITS.kindLength) }).strict()

export function registerKindRoutes(app: FastifyInstance, deps: KindRouteDeps): void {
  const { coordinator, readers, writers, context } = deps

  app.get('/api/kinds', readers, async () => ({ kinds: coordinator.listKinds() }))

  app.patch('/api/kinds/:kind', writers, async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendError(reply, 'bad_request', `kind: ${describeIssues(params.error)}`)
    const body: unknown = request.body
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendError(reply, 'bad_request', 'the body must be a JSON object: { paused?, maxRunning?, maxPerMinute? }')
    }
    if ('kind' in body) return sendError(reply, 'bad_request', 'kind: give it in the path, not the body')
    return sendResult(reply, await runCommand('kind:update', { ...body, kind: params.data.kind }, context(request)))
  })
}
