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
import type { AckData } from '../../../shared/event-map'
import { fail, ok, type Result } from '../../../shared/result'
import type { AccessTokens } from '../auth/access'
import type { AuditSink } from '../storage/audit-trail'
import type { RemoteAgents, RemoteLink, RemoteSession } from '../agents/remote-agents'
import type { Coordinator } from '../coordinator/coordinator'
import type { Logger } from '../logger'
import { recordRefusal } from './audited'
import { admit, clientAddress } from './auth'
import { guardSocket, type Answer, type GuardCounters } from './guard'
import { eventsOf, mount, type Handler, type HandlerTable } from './handler-table'
import { relayAgent } from './agent-relay'
import type { Limits } from './limits'

export interface AgentSocketData {
  /** Messages refused without an acknowledgement to tell the agent. */
  refused: number
  /** The name of the agent token it connected with. */
  actor: string
  /** The leader it is relayed to (this node follows); null: served here. */
  relayTo: string | null
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
  tokens: AccessTokens
  logger: Logger
  /** Where refused tokens are recorded. */
  audit: AuditSink
  limits: Limits
  counters?: GuardCounters
  /** How late the event loop ran recently (loop-lag.ts), credited by the rate limit. */
  lagMs?: () => number
  /** A cluster node's: while it follows, agents are relayed to the leader (agent-relay.ts). */
  relay?: AgentRelaying
}

export interface AgentRelaying {
  nodeId: string
  /** The leader's URL while this node follows; null while it leads; 'unknown' during an election. */
  forwardTo(): string | null | 'unknown'
}

/** One agent connection, as its handlers see it. */
interface AgentConnection {
  link: RemoteLink
  /** Set by `agent:register`; null before. */
  session: RemoteSession | null
}

type AgentEvent = keyof AgentsClientToServer

/** What an agent may send. */
function agentHandlers({ coordinator, remote }: AgentsDeps): HandlerTable<AgentsClientToServer, AgentConnection> {
  /** A registered agent's message: refused before registration or after replacement, then validated. */
  const registered =
    <E extends AgentEvent, S extends z.ZodType>(
      schema: S,
      handler: (message: z.output<S>, session: RemoteSession) => Answer<AckData<AgentsClientToServer, E>>,
    ): Handler<AgentsClientToServer, E, AgentConnection> =>
    (payload, { session }, event) => {
      if (!session) return fail('bad_request', `register first: send agent:register before ${event}`)
      if (!session.current) return fail('conflict', 'this connection no longer speaks for its agent')
      remote.seen(session)
      const parsed = schema.safeParse(payload)
      if (!parsed.success) return fail('bad_request', describeIssues(parsed.error))
      return handler(parsed.data, session)
    }

  const stale = (taskId: string): Result<never> =>
    fail('conflict', `task ${taskId} is not held by this agent (requeued, cancelled, timed out or finished)`)

  return {
    'agent:register': (payload, connection) => {
      const parsed = AgentRegistrationSchema.safeParse(payload)
      if (!parsed.success) return fail('bad_request', describeIssues(parsed.error))
      const registration = parsed.data
      const { session } = connection
      if (session?.current) {
        // A repeated register (an ack lost on the way) is harmless; switching ids is not.
        if (session.agentId === registration.id) return ok({ agentId: session.agentId, sessionKey: session.key })
        return fail('conflict', `this connection is already registered as ${session.agentId}`)
      }
      const attached = remote.attach(registration, connection.link)
      if (!attached.ok) return attached
      connection.session = attached.data.session
      const { agentId, key: sessionKey } = connection.session
      if (!registration.running) return ok({ agentId, sessionKey })
      const held = new Set(attached.data.agent.currentTaskIds)
      return ok({ agentId, sessionKey, resumed: registration.running.filter((taskId) => held.has(taskId)) })
    },

    'agent:heartbeat': registered(AgentHeartbeatSchema, (_message, session) => {
      remote.heartbeat(session)
      return ok({ serverTime: Date.now() })
    }),

    'agent:metrics': registered(AgentMetricsSchema, (metrics, session) => {
      remote.heartbeat(session, metrics)
      return ok(null)
    }),

    'task:progress': registered(TaskProgressSchema, ({ taskId, progress, message }, session) => {
      if (!remote.holds(session, taskId)) return stale(taskId)
      coordinator.reportProgress(session.agentId, taskId, progress, message)
      return ok(null)
    }),

    'task:complete': registered(TaskCompleteSchema, ({ taskId, result }, session) => {
      if (!remote.holds(session, taskId)) return stale(taskId)
      coordinator.reportSucceeded(session.agentId, taskId, result)
      return ok(null)
    }),

    'task:fail': registered(TaskFailSchema, ({ taskId, error }, session) => {
      if (!remote.holds(session, taskId)) return stale(taskId)
      coordinator.reportFailed(session.agentId, taskId, error)
      return ok(null)
    }),

    log: registered(AgentLogSchema, ({ taskId, level, message }, session) => {
      // Lines about a task go to it only while this agent has it (or had it last, for late lines).
      if (taskId !== undefined && coordinator.getTask(taskId)?.agentId !== session.agentId) {
        return fail('conflict', `task ${taskId} is not this agent's`)
      }
      coordinator.reportLog(session.agentId, taskId ?? null, level, message)
      return ok(null)
    }),
  }
}

/** Returns how many agents this node relays to the leader now (a follower's; cluster mode). */
export function registerAgents(namespace: AgentsNamespace, deps: AgentsDeps): { relayed(): number } {
  let relayed = 0
  const { remote, tokens, logger } = deps
  const handlers = agentHandlers(deps)
  const events = eventsOf(handlers)

  const presented = (socket: AgentSocket) => (socket.handshake.auth as { token?: unknown } | undefined)?.token

  namespace.use((socket, next) => {
    const admission = admit(tokens, presented(socket), ['agent'])
    if (!admission.ok) {
      const address = clientAddress(socket.handshake.address, socket.handshake.headers)
      recordRefusal(deps.audit, admission, { address, via: 'socket', door: '/agents' })
      next(new Error(admission.code))
      return
    }
    const relayTo = deps.relay?.forwardTo() ?? null
    if (relayTo === 'unknown') {
      const message = 'this node follows and no cluster leader is known right now (an election); retry'
      next(Object.assign(new Error('unavailable'), { data: { message } }))
      return
    }
    socket.data.relayTo = relayTo
    socket.data.refused = 0
    socket.data.actor = admission.identity.name
    next()
  })

  // A revoked agent token ends its connections: their tasks go back to the queue as for any lost agent.
  tokens.onChange(() => {
    for (const socket of namespace.sockets.values()) {
      const token = presented(socket)
      if (typeof token === 'string' && tokens.accepts({ name: socket.data.actor, role: 'agent' }, token)) continue
      logger.warn({ id: socket.id, actor: socket.data.actor }, 'agent disconnected: its token is no longer accepted')
      socket.disconnect(true)
    }
  })

  namespace.on('connection', (socket: AgentSocket) => {
    const connection: AgentConnection = {
      session: null,
      link: {
        address: socket.handshake.address,
        assign: (task) => socket.emit('task:assign', { task }),
        cancel: (taskId) => socket.emit('task:cancel', { taskId }),
        close: (reason, message) => {
          socket.emit('agent:closed', { reason, message })
          socket.disconnect()
        },
      },
    }
    logger.debug({ id: socket.id, address: socket.handshake.address }, 'agent connection opened')

    /** Answers without an ack to tell the agent are counted and logged at debug. */
    const noAck = (event: string) => (result: Result<unknown>) => {
      if (result.ok) return
      socket.data.refused++
      logger.debug(
        { agentId: connection.session?.agentId, event, error: result.error, refused: socket.data.refused },
        'agent message refused',
      )
    }
    guardSocket(socket, {
      namespace: '/agents',
      events,
      limits: deps.limits,
      logger,
      counters: deps.counters,
      lagMs: deps.lagMs,
      unanswered: (event, result) => noAck(event)(result),
      // A task's final report: at most one per task the coordinator handed this agent, so the server bounds them
      // itself; refusing one would strand the task, and counting them would shrink the allowance for progress and
      // log lines the faster an agent works. Neither judged nor counted.
      exempt: (event, [message]) => {
        const { session } = connection
        return (
          (event === 'task:complete' || event === 'task:fail') &&
          session?.current === true &&
          typeof (message as { taskId?: unknown } | undefined)?.taskId === 'string' &&
          remote.holds(session, (message as { taskId: string }).taskId)
        )
      },
    })
    const { relayTo } = socket.data
    if (relayTo !== null && deps.relay) {
      relayed++
      const address = clientAddress(socket.handshake.address, socket.handshake.headers)
      const ended = () => relayed--
      relayAgent(socket, { leader: relayTo, nodeId: deps.relay.nodeId, address, events, logger, ended })
      return
    }
    mount(socket, handlers, connection, { logger, noAck })

    socket.on('disconnect', (reason) => {
      if (connection.session) remote.detach(connection.session, reason)
      else logger.debug({ id: socket.id, reason }, 'unregistered agent connection closed')
    })
  })
  return { relayed: () => relayed }
}
