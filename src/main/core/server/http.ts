/**
 * HTTP: health, the REST API (bearer token), and the built renderer at `/`.
 * Errors are JSON `{ error: { code, message } }` with a fitting status.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyStatic from '@fastify/static'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { describeIssues } from '../../../shared/commands'
import { TaskStatusSchema, type Role } from '../../../shared/domain'
import type { Health } from '../../../shared/protocol'
import type { ErrorCode, Result } from '../../../shared/result'
import type { Tokens } from '../auth/tokens'
import type { Logger } from '../logger'
import { VERSION } from '../version'
import { admit, bearerToken } from './auth'
import { isLoopback, runCommand, type CommandName } from './operator-commands'
import { buildSnapshot, type SwarmState } from './snapshot'

export const BODY_LIMIT = 64 * 1024

const STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  queue_full: 503,
  unavailable: 503,
  internal: 500,
}

/** Served with every response; the renderer needs nothing inline, nothing remote. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export interface HttpDeps {
  state: SwarmState
  tokens: Tokens
  logger: Logger
  rendererDir: string | null
  allowRemoteShell: boolean
  https?: { cert: Buffer; key: Buffer }
  startedAt: number
  metrics: Registry
}

declare module 'fastify' {
  interface FastifyRequest {
    role: Role | null
  }
}

function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(STATUS_OF[code]).send({ error: { code, message } })
}

function sendResult<T>(reply: FastifyReply, result: Result<T>, okStatus = 200): FastifyReply {
  return result.ok ? reply.code(okStatus).send(result.data) : sendError(reply, result.error.code, result.error.message)
}

const TaskQuerySchema = z
  .object({
    status: TaskStatusSchema.optional(),
    agent: z.string().min(1).max(128).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict()

const ParamsSchema = z.object({ id: z.string().min(1).max(128) })

export function createHttpServer(deps: HttpDeps): FastifyInstance {
  const { state, tokens, logger } = deps
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance

  app.decorateRequest('role', null)

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    reply.header('x-frame-options', 'DENY')
    return payload
  })

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode ?? 500
    if (status === 413) return sendError(reply, 'payload_too_large', `request body is larger than ${BODY_LIMIT} bytes`)
    if (status >= 400 && status < 500) return sendError(reply, 'bad_request', error.message)
    logger.error({ err: error, url: request.url }, 'request failed')
    return sendError(reply, 'internal', 'internal server error; see the server log')
  })

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
  )

  const requireRole =
    (allowed: readonly Role[]) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const admission = admit(tokens, bearerToken(request.headers.authorization), allowed)
      if (!admission.ok) {
        logger.warn(
          { address: request.ip, url: request.url.split('?')[0], reason: admission.reason },
          'request refused',
        )
        const message =
          admission.code === 'unauthorized'
            ? `${admission.reason}: send "Authorization: Bearer <token>"`
            : admission.reason
        await sendError(reply, admission.code, message)
        return
      }
      request.role = admission.role
    }
  const readers = { onRequest: requireRole(['operator', 'viewer']) }
  const writers = { onRequest: requireRole(['operator']) }

  app.get('/healthz', async (): Promise<Health> => ({
    status: 'ok',
    version: VERSION,
    uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
  }))

  app.get('/api/snapshot', readers, async () => buildSnapshot(state))

  app.get('/metrics', readers, async (_request, reply) =>
    reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()),
  )

  app.get('/api/agents', readers, async () => ({ agents: state.coordinator.listAgents() }))

  app.get('/api/tasks', readers, async (request, reply) => {
    const query = TaskQuerySchema.safeParse(request.query)
    if (!query.success) return sendError(reply, 'bad_request', describeIssues(query.error))
    const { status, agent, limit } = query.data
    return { ...state.coordinator.listTasks({ status, agentId: agent, limit }), retention: state.store.retention() }
  })

  app.get('/api/tasks/:id', readers, async (request, reply) => {
    const { id } = ParamsSchema.parse(request.params)
    const detail = state.store.getDetail(id)
    if (detail) return detail
    // Demo tasks are not stored: their current state, without history.
    const task = state.coordinator.getTask(id)
    return task
      ? { ...task, transitions: [], logs: [], logsDropped: 0 }
      : sendError(reply, 'not_found', `no task ${id}`)
  })

  const command = (request: FastifyRequest, name: CommandName, input: unknown) =>
    runCommand(state.coordinator, name, input, {
      role: request.role ?? 'viewer',
      loopback: isLoopback(request.socket.remoteAddress),
      allowRemoteShell: deps.allowRemoteShell,
    })

  app.post('/api/tasks', writers, async (request, reply) =>
    sendResult(reply, command(request, 'task:submit', request.body), 201),
  )

  app.post('/api/tasks/:id/cancel', writers, async (request, reply) => {
    const { id } = ParamsSchema.parse(request.params)
    return sendResult(reply, command(request, 'task:cancel', { taskId: id }))
  })

  if (deps.rendererDir && existsSync(join(deps.rendererDir, 'index.html'))) {
    void app.register(fastifyStatic, { root: deps.rendererDir, index: 'index.html', wildcard: true })
  } else {
    const where = deps.rendererDir ?? '(none configured)'
    app.get('/', async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain')
        .send(`Swarm Monitor's dashboard is not built (looked in ${where}). Run "npm run build:app", then reload.\n`),
    )
  }

  return app
}
