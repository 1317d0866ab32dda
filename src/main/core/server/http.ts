/**
 * HTTP: health, the REST API (bearer token), and the built renderer at `/`.
 * Errors are JSON `{ error: { code, message } }` with a fitting status.
 * Before any route: the Origin check, CORS for allowed origins, the
 * per-address rate limit; then the route's role check. The security headers
 * and the timeouts are the raw server's (`edge.ts`), so they hold for
 * Engine.IO's answers and Node's own too.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyCors from '@fastify/cors'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifyStatic from '@fastify/static'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { describeIssues } from '../../../shared/commands'
import type { Role } from '../../../shared/domain'
import type { Health, Snapshot } from '../../../shared/protocol'
import type { AccessTokens } from '../auth/access'
import type { Membership } from '../cluster/membership'
import type { Logger } from '../logger'
import type { OperatorRecords } from '../pipeline/pipeline'
import { VERSION } from '../version'
import { recordRefusal, type Actor } from './audited'
import { admit, bearerToken, clientAddress, isLocalClient, originAllowed } from './auth'
import { clientErrorHandler, fastifyTimeouts, nodeServerOptions, tlsServerOptions } from './edge'
import { depthExceeds } from './guard'
import { registerHistoryRoutes } from './history.routes'
import type { HeaderSet } from './headers'
import { DEFAULT_LIMITS, type Limits } from './limits'
import { runCommand, type CommandContext } from './operator-commands'
import { registerOperatorRoutes } from './operator-routes'
import { sendError, sendResult } from './replies'
import { registerWorkflowRoutes } from './workflow.routes'
import { registerKindRoutes } from './kind.routes'
import { addLeaderProxy, type LeaderProxyOptions } from './leader-proxy'
import { registerCommandRoute } from './forwarded-commands'
import { registerScheduleRoutes } from './schedule.routes'
import type { ScheduleBook } from '../schedules/schedule-book'
import type { SwarmState } from '../pipeline/snapshot'

/** The default body limit (64 KiB); `HttpDeps.limits` may set another. */
export const BODY_LIMIT = DEFAULT_LIMITS.messageBytes

/** Paths the rate limit leaves alone: health checks and the dashboard's own files. */
function rateLimited(url: string): boolean {
  const path = url.split('?')[0]!
  return path.startsWith('/api/') || path === '/api' || path === '/metrics'
}

export interface HttpDeps {
  state: SwarmState
  /** The whole state viewers are sent: this process's, or a cluster follower's copy (pipeline.snapshot). */
  snapshot(): Snapshot
  tokens: AccessTokens
  logger: Logger
  /** The audit trail, saved views and long metric ranges (operator-routes.ts). */
  operator: OperatorRecords
  rendererDir: string | null
  allowRemoteShell: boolean
  https?: { cert: Buffer; key: Buffer }
  startedAt: number
  metrics: Registry
  /** Browser origins allowed besides the server's own (`--allow-origin`). */
  allowOrigin?: readonly string[]
  limits?: Limits
  /** Told of each request refused by the rate limit. */
  rateLimited?: () => void
  /** The security headers, for the answers Node writes itself (`400`, `408`, `431`); `edge.ts` adds them to the rest. */
  securityHeaders: HeaderSet
  /** The schedules (`/api/schedules`); absent, those routes are not served. */
  schedules?: ScheduleBook
  /** Who this node is and who the others are (`/healthz`'s `node`, `GET /api/cluster`). */
  cluster: Pick<Membership, 'nodeId' | 'role' | 'info'>
  /** A cluster node's: the API is answered by the leader while this node follows (leader-proxy.ts). */
  forwarding?: LeaderProxyOptions
}

declare module 'fastify' {
  interface FastifyRequest {
    role: Role | null
    /** Who sent it, once the route's role check let it in. */
    actor: Actor | null
  }
}

const ParamsSchema = z.object({ id: z.string().min(1).max(128) })

export function createHttpServer(deps: HttpDeps): FastifyInstance {
  const { state, tokens, logger } = deps
  const limits = deps.limits ?? DEFAULT_LIMITS
  const allowOrigin = deps.allowOrigin ?? []
  const secure = deps.https !== undefined
  const app = Fastify({
    bodyLimit: limits.messageBytes,
    logger: false,
    // A URL Fastify cannot even decode (`/api/tasks/%`) gets the same error shape as everything else.
    frameworkErrors: (error, _request, reply) => void sendError(reply, 'bad_request', error.message),
    ...fastifyTimeouts(limits),
    clientErrorHandler: clientErrorHandler(deps.securityHeaders, limits),
    ...(deps.https ? { https: { ...deps.https, ...tlsServerOptions(limits) } } : { http: nodeServerOptions(limits) }),
  }) as unknown as FastifyInstance

  app.decorateRequest('role', null)
  app.decorateRequest('actor', null)

  // A browser page of another origin gets nothing, not even a preflight answer (as on Socket.IO).
  app.addHook('onRequest', async (request, reply) => {
    if (originAllowed(request.raw, allowOrigin, secure)) return
    logger.warn({ origin: request.headers.origin, address: request.ip }, 'origin refused')
    await sendError(reply, 'forbidden', `origin ${String(request.headers.origin).slice(0, 200)} is not allowed`)
  })

  void app.register(fastifyCors, {
    delegator: (request, callback) => {
      const origin = request.headers.origin
      callback(null, {
        // The Origin hook above already refused any other; never `*`.
        origin: typeof origin === 'string' && originAllowed(request, allowOrigin, secure) ? origin : false,
        methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type'],
        credentials: false,
        maxAge: 600,
      })
    },
  })

  // Global (not per route), so it runs before each route's role check: token guessing is limited too.
  void app
    .register(fastifyRateLimit, {
      global: false,
      max: limits.httpPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => clientAddress(request.socket.remoteAddress, request.headers),
      // This machine (the desktop window, scripts, benchmarks) is not one remote address among others.
      allowList: (request) => !rateLimited(request.url) || isLocalClient(request.socket.remoteAddress, request.headers),
      onExceeded: () => deps.rateLimited?.(),
      errorResponseBuilder: (_request, context) =>
        Object.assign(
          new Error(
            `too many requests from this address: ${context.max} a minute are allowed; retry in ${context.after}`,
          ),
          { statusCode: 429 },
        ),
    })
    .after(() => {
      app.addHook('onRequest', app.rateLimit())
      // After the rate limit, which a follower applies to its own clients as any node does.
      if (deps.forwarding) addLeaderProxy(app, deps.forwarding)
    })

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode ?? 500
    if (status === 413) {
      return sendError(reply, 'payload_too_large', `request body is larger than ${limits.messageBytes} bytes`)
    }
    if (status === 429) return sendError(reply, 'rate_limited', error.message)
    if (status >= 400 && status < 500) return sendError(reply, 'bad_request', error.message)
    logger.error({ err: error, url: request.url.split('?')[0] }, 'request failed')
    return sendError(reply, 'internal', 'internal server error; see the server log')
  })

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
  )

  // Parsed JSON can nest deeper than anything downstream should walk (JSON.stringify, Socket.IO's encoder recurse).
  app.addHook('preValidation', async (request, reply) => {
    if (request.body !== undefined && depthExceeds(request.body, limits.maxDepth)) {
      await sendError(reply, 'bad_request', `the body nests deeper than ${limits.maxDepth} levels`)
    }
  })

  const requireRole =
    (allowed: readonly Role[]) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const admission = admit(tokens, bearerToken(request.headers.authorization), allowed)
      const address = clientAddress(request.socket.remoteAddress, request.headers)
      if (!admission.ok) {
        // The route's pattern, not the path: a refused request's path is the client's to fill.
        const door = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]!.slice(0, 200)}`
        recordRefusal(deps.operator.audit, admission, { address, via: 'http', door })
        const message =
          admission.code === 'unauthorized'
            ? `${admission.reason}: send "Authorization: Bearer <token>"`
            : admission.reason
        await sendError(reply, admission.code, message)
        return
      }
      request.role = admission.identity.role
      request.actor = { name: admission.identity.name, role: admission.identity.role, address, via: 'http' }
    }
  const readers = { onRequest: requireRole(['operator', 'viewer']) }
  const writers = { onRequest: requireRole(['operator']) }

  app.get('/healthz', async (): Promise<Health> => ({
    status: 'ok',
    version: VERSION,
    uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
    node: { id: deps.cluster.nodeId, role: deps.cluster.role() },
  }))

  app.get('/api/snapshot', readers, async () => deps.snapshot())

  app.get('/api/cluster', readers, async () => deps.cluster.info())

  app.get('/metrics', readers, async (_request, reply) =>
    reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()),
  )

  app.get('/api/agents', readers, async () => ({ agents: state.coordinator.listAgents() }))

  registerHistoryRoutes(app, { state, logger, readers, sendError })

  app.get('/api/tasks/:id', readers, async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
    const { id } = params.data
    let detail
    try {
      detail = await state.history.detail(id)
    } catch (error) {
      return sendError(reply, 'unavailable', (error as Error).message)
    }
    const waitingFor = state.coordinator.waitingFor(id)
    const heldBy = state.coordinator.heldBy(id)
    const waiting = { ...(waitingFor.length > 0 ? { waitingFor } : {}), ...(heldBy ? { heldBy } : {}) }
    if (detail) return { ...detail, ...waiting }
    // Demo tasks are not stored: their current state, without history.
    const task = state.coordinator.getTask(id)
    return task
      ? { ...task, transitions: [], logs: [], logsDropped: 0, ...waiting }
      : sendError(reply, 'not_found', `no task ${id}`)
  })

  // The same command handlers as the socket's (operator-commands.ts); one may wait (a durable write), so awaited.
  const context = (request: FastifyRequest): CommandContext => ({
    coordinator: state.coordinator,
    role: request.role ?? 'viewer',
    loopback: isLocalClient(request.socket.remoteAddress, request.headers),
    allowRemoteShell: deps.allowRemoteShell,
    history: state.history,
    actor: request.actor ?? undefined,
    audit: deps.operator.audit,
    kinds: deps.operator.kinds,
  })

  app.post('/api/tasks', writers, async (request, reply) =>
    sendResult(reply, await runCommand('task:submit', request.body, context(request)), 201),
  )

  app.post('/api/tasks/:id/cancel', writers, async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
    return sendResult(reply, await runCommand('task:cancel', { taskId: params.data.id }, context(request)))
  })

  // Cancel or retry many tasks (bulk-tasks.ts); answered once every task has been dealt with.
  app.post('/api/tasks/bulk', writers, async (request, reply) =>
    sendResult(reply, await runCommand('task:bulk', request.body ?? null, context(request))),
  )
  app.post('/api/tasks/:id/retry', writers, async (request, reply) => {
    const params = ParamsSchema.safeParse(request.params)
    if (!params.success) return sendError(reply, 'bad_request', describeIssues(params.error))
    return sendResult(reply, await runCommand('task:retry', { taskId: params.data.id }, context(request)))
  })

  registerOperatorRoutes(app, { records: deps.operator, readers, writers })
  registerWorkflowRoutes(app, {
    coordinator: state.coordinator,
    readers,
    writers,
    context,
    messageBytes: limits.messageBytes,
  })
  registerKindRoutes(app, { coordinator: state.coordinator, readers, writers, context })
  if (deps.forwarding) registerCommandRoute(app, { readers, context })
  if (deps.schedules) {
    registerScheduleRoutes(app, {
      schedules: deps.schedules,
      readers,
      writers,
      context,
      messageBytes: limits.messageBytes,
    })
  }

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
