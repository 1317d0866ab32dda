/**
 * Workflows over HTTP: everyone with a token reads them, operators submit,
 * cancel and retry them through the command table (operator-commands.ts), so
 * HTTP and Socket.IO refuse, answer and audit alike. The submit route takes a
 * larger body than the rest (`WORKFLOW_LIMITS.bodyBytes`): a graph of 1,000
 * tasks does not fit the message limit.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { describeIssues } from '../../../shared/commands'
import { WORKFLOW_LIMITS } from '../../../shared/workflows'
import type { Coordinator } from '../coordinator/coordinator'
import { runCommand, type CommandContext } from './operator-commands'
import { sendError, sendResult } from './replies'

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

export interface WorkflowRouteDeps {
  coordinator: Coordinator
  readers: { onRequest: Hook }
  writers: { onRequest: Hook }
  /** The command context of a request (its role, actor, loopback). */
  context(request: FastifyRequest): CommandContext
  /** The body limit of the other routes: the submit route takes the larger of it and the workflow bound. */
  messageBytes: number
}

const ParamsSchema = z.object({ id: z.string().min(1).max(128) }).strict()
const ListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(WORKFLOW_LIMITS.listMax).default(WORKFLOW_LIMITS.listDefault),
  })
  .strict()

export function registerWorkflowRoutes(app: FastifyInstance, deps: WorkflowRouteDeps): void {
  const { coordinator, readers, writers, context } = deps

  app.post(
    '/api/workflows',
    { ...writers, bodyLimit: Math.max(deps.messageBytes, WORKFLOW_LIMITS.bodyBytes) },
    async (request, reply) =>
      sendResult(reply, await runCommand('workflow:submit', request.body, context(request)), 201),
  )

  app.get('/api/workflows', readers, async (request, reply) => {
    const query = ListQuerySchema.safeParse(request.query)
    if (!query.success) return sendError(reply, 'bad_request', describeIssues(query.error))
    return coordinator.listWorkflows(query.data.limit)
  })

  app.get('/api/workflows/:id', readers, async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
    return coordinator.getWorkflow(params.data.id) ?? sendError(reply, 'not_found', `no workflow ${params.data.id}`)
  })

  for (const [path, command] of [
    ['cancel', 'workflow:cancel'],
    ['retry-failed', 'workflow:retry-failed'],
  ] as const) {
    app.post(`/api/workflows/:id/${path}`, writers, async (request, reply) => {
      const params = ParamsSchema.safeParse(request.params)
      if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
      return sendResult(reply, await runCommand(command, { workflowId: params.data.id }, context(request)))
    })
  }
}
