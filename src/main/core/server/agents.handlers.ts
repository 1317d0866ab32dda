/**
 * The `/agents` namespace: remote agent processes in any language. Only the
 * agent token gets in. A connection registers once (`agent:register`), then
 * receives `task:assign` / `task:cancel` and reports back. Who may register
 * an id another connection holds: `RemoteAgents.attach`. Every message is
 * validated; a bad or early one is refused through its acknowledgement (or,
 * without one, counted and logged at debug) and changes nothing; none can
 * throw. Who is alive and who speaks for which id: `RemoteAgents`.
 */
import type { Namespace, Socket } from 'socket.io'
import type { z } from 'zod'
import {
  AgentHeartbeatSchema,
  AgentLogSchema,
  AgentMetricsSchema,
  AgentRegistrationSchema,
  TaskCompleteSchema,
  TaskFailSchema,
  TaskProgressSchema,
} from '../../../shared/agent-messages'
import { describeIssues } from '../../../shared/commands'
import type { AgentsClientToServer, AgentsServerToClient } from '../../../shared/protocol'
import { fail, ok, type Result } from '../../../shared/result'
import type { Tokens } from '../auth/tokens'
import type { RemoteAgents, RemoteLink, RemoteSession } from '../agents/remote-agents'
import type { Coordinator } from '../coordinator/coordinator'
import type { Logger } from '../logger'
import { admit } from './auth'
import { guarded, guardSocket, type GuardCounters, type Reply } from './guard'
import type { Limits } from './limits'

export interface AgentSocketData {
  /** Messages refused without an acknowledgement to tell the agent. */
  refused: number
}

export type AgentsNamespace = Namespace<
  AgentsClientToServer,
  AgentsServerToClient,
  Record<string, never>,
  AgentSocketData
>
type AgentSocket = Socket<AgentsClientToServer, AgentsServerToClient, Record<string, never>, AgentSocketData>

export interface AgentsDeps {
  coordinator: Coordinator
  remote: RemoteAgents
  tokens: Tokens
  logger: Logger
  limits: Limits
  counters?: GuardCounters
  /** How late the event loop ran recently (loop-lag.ts), credited by the rate limit. */
  lagMs?: () => number
}

/** What an agent may send; anything else is ignored and counted. */
const EVENTS: ReadonlySet<string> = new Set<keyof AgentsClientToServer>([
  'agent:register',
  'agent:heartbeat',
  'agent:metrics',
  'task:progress',
  'task:complete',
  'task:fail',
  'log',
])

export function registerAgents(namespace: AgentsNamespace, deps: AgentsDeps): void {
  const { coordinator, remote, tokens, logger } = deps

  namespace.use((socket, next) => {
    const admission = admit(tokens, (socket.handshake.auth as { token?: unknown } | undefined)?.token, ['agent'])
    if (!admission.ok) {
      logger.warn(
        { address: socket.handshake.address, reason: admission.reason, namespace: '/agents' },
        'connection refused',
      )
      next(new Error(admission.code))
      return
    }
    socket.data.refused = 0
    next()
  })

  namespace.on('connection', (socket: AgentSocket) => {
    let session: RemoteSession | null = null
    logger.debug({ id: socket.id, address: socket.handshake.address }, 'agent connection opened')

    const link: RemoteLink = {
      address: socket.handshake.address,
      assign: (task) => socket.emit('task:assign', { task }),
      cancel: (taskId) => socket.emit('task:cancel', { taskId }),
      close: (reason, message) => {
        socket.emit('agent:closed', { reason, message })
        socket.disconnect()
      },
    }

    /** Answers without an ack to tell the agent are counted and logged at debug. */
    const noAck = (event: string) => (result: Result<unknown>) => {
      if (result.ok) return
      socket.data.refused++
      logger.debug(
        { agentId: session?.agentId, event, error: result.error, refused: socket.data.refused },
        'agent message refused',
      )
    }
    guardSocket(socket, {
      namespace: '/agents',
      events: EVENTS,
      limits: deps.limits,
      logger,
      counters: deps.counters,
      lagMs: deps.lagMs,
      unanswered: (event, result) => noAck(event)(result),
      // A task's final report: at most one per task the coordinator handed this agent, so the server bounds them
      // itself; refusing one would strand the task, and counting them would shrink the allowance for progress and
      // log lines the faster an agent works. Neither judged nor counted.
      exempt: (event, [message]) =>
        (event === 'task:complete' || event === 'task:fail') &&
        session?.current === true &&
        typeof (message as { taskId?: unknown } | undefined)?.taskId === 'string' &&
        remote.holds(session, (message as { taskId: string }).taskId),
    })
    const on = (event: keyof AgentsClientToServer, handler: (payload: unknown, reply: Reply) => void) =>
      socket.on(event, guarded(logger, event, handler, noAck(event)))

    /** A handler for a registered agent's message: refused before registration or after replacement. */
    const registered = <S extends z.ZodType>(
      event: keyof AgentsClientToServer,
      schema: S,
      handler: (message: z.output<S>, session: RemoteSession, reply: Reply) => void,
    ) =>
      on(event, (payload, reply) => {
        if (!session) return reply(fail('bad_request', `register first: send agent:register before ${event}`))
        if (!session.current) return reply(fail('conflict', 'this connection no longer speaks for its agent'))
        remote.seen(session)
        const parsed = schema.safeParse(payload)
        if (!parsed.success) return reply(fail('bad_request', describeIssues(parsed.error)))
        handler(parsed.data, session, reply)
      })

    const stale = (taskId: string): Result<never> =>
      fail('conflict', `task ${taskId} is not held by this agent (requeued, cancelled, timed out or finished)`)

    on('agent:register', (payload, reply) => {
      const parsed = AgentRegistrationSchema.safeParse(payload)
      if (!parsed.success) return reply(fail('bad_request', describeIssues(parsed.error)))
      const registration = parsed.data
      if (session?.current) {
        // A repeated register (an ack lost on the way) is harmless; switching ids is not.
        if (session.agentId === registration.id) return reply(ok({ agentId: session.agentId, sessionKey: session.key }))
        return reply(fail('conflict', `this connection is already registered as ${session.agentId}`))
      }
      const attached = remote.attach(registration, link)
      if (!attached.ok) return reply(attached)
      session = attached.data.session
      reply(ok({ agentId: session.agentId, sessionKey: session.key }))
    })

    registered('agent:heartbeat', AgentHeartbeatSchema, (_message, current, reply) => {
      remote.heartbeat(current)
      reply(ok({ serverTime: Date.now() }))
    })

    registered('agent:metrics', AgentMetricsSchema, (metrics, current, reply) => {
      remote.heartbeat(current, metrics)
      reply(ok(null))
    })

    registered('task:progress', TaskProgressSchema, ({ taskId, progress, message }, current, reply) => {
      if (!remote.holds(current, taskId)) return reply(stale(taskId))
      coordinator.reportProgress(current.agentId, taskId, progress, message)
      reply(ok(null))
    })

    registered('task:complete', TaskCompleteSchema, ({ taskId, result }, current, reply) => {
      if (!remote.holds(current, taskId)) return reply(stale(taskId))
      coordinator.reportSucceeded(current.agentId, taskId, result)
      reply(ok(null))
    })

    registered('task:fail', TaskFailSchema, ({ taskId, error }, current, reply) => {
      if (!remote.holds(current, taskId)) return reply(stale(taskId))
      coordinator.reportFailed(current.agentId, taskId, error)
      reply(ok(null))
    })

    registered('log', AgentLogSchema, ({ taskId, level, message }, current, reply) => {
      // Lines about a task go to it only while this agent has it (or had it last, for late lines).
      if (taskId !== undefined && coordinator.getTask(taskId)?.agentId !== current.agentId) {
        return reply(fail('conflict', `task ${taskId} is not this agent's`))
      }
      coordinator.reportLog(current.agentId, taskId ?? null, level, message)
      reply(ok(null))
    })

    socket.on('disconnect', (reason) => {
      if (session) remote.detach(session, reason)
      else logger.debug({ id: socket.id, reason }, 'unregistered agent connection closed')
    })
  })
}
