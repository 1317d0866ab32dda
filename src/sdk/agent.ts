/**
 * The TypeScript agent SDK: connect a process to a Swarm Monitor server as a
 * remote agent, run the tasks it assigns, report progress, logs and results.
 *
 *   const agent = createAgent({ url, token, id: 'hasher-1', capabilities: ['hash'],
 *     handler: async (task, ctx) => { ctx.progress(0.5); return { ok: true } } })
 *   await agent.connected
 *
 * The SDK keeps its link with the shared resilient connection
 * (src/shared/client): reconnects by itself (1 s … 30 s, exponential, with
 * jitter; reset after a stable link), registers again after every reconnect,
 * and closes a link whose heartbeats go unanswered (a half-open connection)
 * within 14 s by default. Task reports leave through one ordered, paced and
 * bounded queue (outbox.ts), under the server's rate limit at any task rate.
 * Delivery is at-least-once: when the
 * connection drops, the server requeues the agent's tasks at once, so the SDK
 * aborts their handlers (`ctx.signal`) and drops their results. Handlers
 * should therefore be idempotent. See src/sdk/README.md and docs/agents.md.
 */
import { io } from 'socket.io-client'
import { AGENT_HEARTBEAT_INTERVAL_MS, type AgentCloseReason } from '../shared/agent-messages'
import type { Task } from '../shared/domain'
import type { AckData } from '../shared/event-map'
import { AGENTS_NAMESPACE, type AgentsClientToServer } from '../shared/protocol'
import type { Ack } from '../shared/result'
import { FatalConnectionError, ResilientConnection } from '../shared/client/connection'
import type { AgentEnd, AgentOptions, AgentSocket, AgentState, SwarmAgent, TaskContext } from './agent.types'
import { Outbox, type OutboxEvent, type OutboxMessage, type OutboxSend } from './outbox'
import { processResources } from './resources'

export type {
  AgentEnd,
  AgentOptions,
  AgentSocket,
  AgentState,
  SwarmAgent,
  TaskContext,
  TaskHandler,
} from './agent.types'

const REGISTER_TIMEOUT_MS = 10_000
/** The most tasks a registration names as still this agent's (`running`; the server's limit). */
const MAX_RUNNING_NAMED = 256
const MAX_ERROR_LENGTH = 8192
const MAX_LOG_LENGTH = 16_384
const MAX_PROGRESS_MESSAGE_LENGTH = 1000
/** Refusals of a connection that retrying cannot fix. */
const FATAL_CONNECT_ERRORS = new Set(['unauthorized', 'forbidden'])
/**
 * Registration refusals worth another try with backoff: the server shutting
 * down, or the id held by another live connection (it frees when that one
 * closes or goes silent).
 */
const RETRYABLE_REGISTRATION = new Set(['unavailable', 'conflict'])

/**
 * `socket.emit` for a task report, read off the protocol's map: socket.io-client types it per event name,
 * through conditional types TypeScript cannot follow for a name that is a type parameter.
 */
type EmitReport = <E extends OutboxEvent>(
  event: E,
  message: OutboxMessage<E>,
  ack: Ack<AckData<AgentsClientToServer, E>>,
) => void

interface Running {
  controller: AbortController
}

export function createAgent(options: AgentOptions): SwarmAgent {
  const log = options.onLog ?? (() => {})
  const concurrency = options.concurrency ?? 1
  const registration = {
    id: options.id,
    name: options.name ?? options.id,
    capabilities: options.capabilities,
    concurrency,
    ...(options.kinds ? { kinds: options.kinds } : {}),
  }
  const sample = options.metrics === false ? null : (options.metrics ?? processResources())
  const running = new Map<string, Running>()
  /** Ends of tasks that could not be sent (no connection): sent after the next registration. */
  const unsent = new Map<string, { event: OutboxEvent; message: OutboxMessage<OutboxEvent> }>()
  let finished = false
  /** Set in the register acknowledgement itself: a `task:assign` right behind it must find it set. */
  let registered = false
  let closedBy: AgentCloseReason | null = null
  /** From the last register ack: lets a reconnect take the id over at once from our own half-open link. */
  let sessionKey: string | null = null

  let resolveConnected!: () => void
  let rejectConnected!: (error: Error) => void
  const connected = new Promise<void>((resolve, reject) => {
    resolveConnected = resolve
    rejectConnected = reject
  })
  // Callers who never await `connected` must not see an unhandled rejection.
  connected.catch(() => {})
  let resolveEnded!: (end: AgentEnd) => void
  const ended = new Promise<AgentEnd>((resolve) => (resolveEnded = resolve))

  // Task reports leave through one paced queue; made first, so that bad `outgoing` settings throw before any socket.
  const sendNow: OutboxSend = (event, message) => {
    if (!registered || !socket.connected) {
      // A task's end is kept for the next registration, which names the task (`running`) so that the server gives
      // it back to this agent, and then sent: work done while the server was away counts, once.
      const { taskId } = message as { taskId?: string }
      if ((event === 'task:complete' || event === 'task:fail') && taskId) unsent.set(taskId, { event, message })
      return
    }
    const emit = socket.emit.bind(socket) as EmitReport
    emit(event, message, (result) => {
      if (result.ok) return
      // `conflict`: the task went elsewhere meanwhile (cancel, timeout); `rate_limited` would mean the pace is wrong.
      log(result.error.code === 'rate_limited' ? 'warn' : 'debug', `${event} refused: ${result.error.message}`)
    })
  }
  const outbox = new Outbox(sendNow, options.outgoing)

  const socket: AgentSocket = io(`${options.url.replace(/\/+$/, '')}${AGENTS_NAMESPACE}`, {
    auth: { token: options.token },
    forceNew: true,
    ...options.socket,
    // The shared connection retries by itself (backoff reset only after a stable link).
    autoConnect: false,
    reconnection: false,
  })

  // The ack is handled in a callback, not after an await: a `task:assign` sent right after the
  // ack must find the agent registered, and a promise continuation would run after it.
  const register = () =>
    new Promise<void>((resolve, reject) => {
      const ours = [...new Set([...running.keys(), ...unsent.keys()])].slice(0, MAX_RUNNING_NAMED)
      const sent = {
        ...registration,
        ...(sessionKey === null ? {} : { sessionKey }),
        ...(ours.length > 0 ? { running: ours } : {}),
      }
      socket.timeout(REGISTER_TIMEOUT_MS).emit('agent:register', sent, (error, answer) => {
        if (error) return reject(new Error(`no answer to agent:register within ${REGISTER_TIMEOUT_MS} ms`))
        if (!answer.ok) {
          const { code } = answer.error
          const message = `registration refused: ${code}: ${answer.error.message}`
          if (!RETRYABLE_REGISTRATION.has(code)) {
            log('error', message)
            return reject(new FatalConnectionError(message))
          }
          log(
            'warn',
            code === 'conflict' ? `agent id ${options.id} is in use; trying again with backoff. ${message}` : message,
          )
          return reject(new Error(message))
        }
        registered = true
        closedBy = null
        sessionKey = answer.data.sessionKey
        log('info', `registered as ${answer.data.agentId}`)
        resolve()
        settleNamed(ours, answer.data.resumed ?? [])
      })
    })

  const connection = new ResilientConnection({
    socket,
    backoff: {
      minMs: options.reconnectDelayMs,
      maxMs: options.reconnectDelayMaxMs,
      jitter: options.reconnectJitter,
    },
    connectTimeoutMs: REGISTER_TIMEOUT_MS,
    handshake: register,
    isFatal: (error) => FATAL_CONNECT_ERRORS.has(error.message),
    // `agent:heartbeat` is both the server's sign of life and the client's round trip.
    heartbeat: {
      intervalMs: options.heartbeatIntervalMs ?? AGENT_HEARTBEAT_INTERVAL_MS,
      timeoutMs: options.heartbeatTimeoutMs,
      ping: async (timeoutMs) => {
        const answer = await socket.timeout(timeoutMs).emitWithAck('agent:heartbeat')
        return answer.ok ? answer.data.serverTime : null
      },
    },
    log,
  })

  const finish = (end: AgentEnd) => {
    if (finished) return
    finished = true
    registered = false
    outbox.clear()
    abortAll(end.message)
    connection.dispose()
    rejectConnected(new Error(end.message))
    resolveEnded(end)
  }

  /**
   * After a registration that named tasks as still ours: those the server gave back go on (their kept ends are
   * sent now); the others it queued again meanwhile, so they stop and their ends are dropped.
   */
  const settleNamed = (named: readonly string[], resumed: readonly string[]) => {
    const back = new Set(resumed)
    for (const taskId of named) {
      const end = unsent.get(taskId)
      unsent.delete(taskId)
      if (back.has(taskId)) {
        if (end) sendNow(end.event, end.message)
        continue
      }
      const task = running.get(taskId)
      running.delete(taskId)
      task?.controller.abort(new Error('the server queued this task again while the connection was down'))
    }
  }

  const abortAll = (reason: string) => {
    for (const [taskId, task] of running) {
      task.controller.abort(new Error(reason))
      running.delete(taskId)
    }
  }

  connection.on('open', () => resolveConnected())
  connection.on('beat', () => {
    // The heartbeat itself and the metrics count against the same pace as task reports.
    outbox.charge()
    if (!registered || !sample || !socket.connected) return
    outbox.charge()
    socket.emit('agent:metrics', sample(), () => {})
  })
  connection.on('state', ({ to, reason }) => {
    if (to === 'error') finish({ reason: 'refused', message: `${reason} (check the agent token and registration)` })
  })

  const run = async (task: Task) => {
    if (running.has(task.id)) return
    const controller = new AbortController()
    const entry: Running = { controller }
    running.set(task.id, entry)
    const current = () => running.get(task.id) === entry && !controller.signal.aborted
    const ctx: TaskContext = {
      signal: controller.signal,
      progress: (progress, message) => {
        if (!current()) return
        const value = Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0))
        const text = message === undefined ? undefined : String(message).slice(0, MAX_PROGRESS_MESSAGE_LENGTH)
        outbox.progress(
          task.id,
          text === undefined
            ? { taskId: task.id, progress: value }
            : { taskId: task.id, progress: value, message: text },
        )
      },
      log: (level, message) => {
        if (current()) outbox.log({ taskId: task.id, level, message: String(message).slice(0, MAX_LOG_LENGTH) })
      },
    }
    // Progress 0 tells the server the task is running, not only assigned.
    ctx.progress(0)
    try {
      const result = await options.handler(task, ctx)
      if (!current()) return
      running.delete(task.id)
      outbox.final('task:complete', result === undefined ? { taskId: task.id } : { taskId: task.id, result })
    } catch (error) {
      if (!current()) return
      running.delete(task.id)
      const message = error instanceof Error ? error.message : String(error)
      outbox.final('task:fail', {
        taskId: task.id,
        error: (message || 'the handler failed').slice(0, MAX_ERROR_LENGTH),
      })
    } finally {
      if (running.get(task.id) === entry) running.delete(task.id)
    }
  }

  socket.on('agent:closed', ({ reason, message }) => {
    closedBy = reason
    log('warn', `the server closes this connection: ${reason}: ${message}`)
  })

  socket.on('disconnect', (reason) => {
    registered = false
    outbox.clear()
    if (finished) return
    // Closed by the server (replaced, silent): it requeued everything this agent held. A lost link may be the
    // server going away (a restart, a cluster failover): the tasks go on, and the next registration names them
    // so the server can give them back (`resumed`); those it does not are stopped then (settleNamed).
    if (reason === 'io server disconnect' || closedBy !== null) {
      abortAll(`connection closed by the server (${closedBy ?? reason}); it requeued the task`)
    }
    if (closedBy === 'replaced') {
      finish({ reason: 'replaced', message: `a newer connection took over ${options.id} with this one's session key` })
      return
    }
    log('warn', `disconnected: ${reason}`)
  })

  socket.on('task:assign', ({ task }) => {
    if (!registered) return
    void run(task)
  })

  socket.on('task:cancel', ({ taskId }) => {
    outbox.forget(taskId)
    unsent.delete(taskId)
    const task = running.get(taskId)
    if (!task) return
    running.delete(taskId)
    task.controller.abort(new Error('cancelled by the server'))
  })

  const agent: SwarmAgent = {
    id: options.id,
    get state(): AgentState {
      if (finished) return 'closed'
      if (registered && socket.connected) return 'registered'
      const { state } = connection.status
      return state === 'connecting'
        ? 'connecting'
        : state === 'disconnected' || state === 'error'
          ? 'closed'
          : 'reconnecting'
    },
    connection,
    connected,
    ended,
    get running() {
      return running.size
    },
    socket,
    async close() {
      finish({ reason: 'closed', message: 'closed by the agent' })
    },
  }
  connection.start()
  return agent
}
