/**
 * Remote agents: which connection speaks for which agent id, and whether it
 * is still alive. Knows nothing of Socket.IO; `agents.handlers.ts` gives it
 * a `RemoteLink` per connection.
 *
 * Rules (docs/agents.md, "Registration and identity"):
 * - One live connection per agent id, and nobody takes it from a live one: a
 *   registration for an id held by a connection that is open and not silent
 *   past the heartbeat timeout is refused (`conflict`, saying when it frees).
 *   The agent token is shared by every agent, so "the newer one wins" would
 *   let any holder of it steal an agent's id, its tasks and their payloads.
 * - Except the same agent coming back: every registration ack carries a
 *   secret `sessionKey`; a registration presenting the holder's key takes the
 *   id over at once (the old connection is told `agent:closed { reason:
 *   "replaced" }` and closed). That is a reconnect after a half-open link,
 *   which would otherwise wait for the heartbeat timeout.
 * - A reconnecting agent takes its place again: same entry, counters and
 *   pause state, new driver, back to `idle`. No ghosts.
 * - Silent past the heartbeat timeout, or disconnected: `offline` at once,
 *   its tasks requeued (at-least-once); a silent connection is also closed,
 *   so a frozen agent that wakes up registers afresh instead of finishing
 *   work that went elsewhere. Offline agents are removed after a grace.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Agent, AgentOffline, Task } from '../../../shared/domain'
import {
  AGENT_HEARTBEAT_TIMEOUT_MS,
  AGENT_OFFLINE_GRACE_MS,
  type AgentCloseReason,
  type AgentMetrics,
  type AgentRegistration,
} from '../../../shared/agent-messages'
import { fail, ok, type Result } from '../../../shared/result'
import { isOnAgent } from '../../../shared/statuses'
import { CoordinatorError, type AgentDriver, type Coordinator } from '../coordinator/coordinator'
import type { Logger } from '../logger'

/** One connection to an agent process. */
export interface RemoteLink {
  assign(task: Task): void
  cancel(taskId: string): void
  /** Tells the agent why, then closes the connection. */
  close(reason: AgentCloseReason, message: string): void
  /** For the log: where the agent connects from. */
  readonly address: string
}

/** A registered connection. `current` turns false when it no longer speaks for its agent. */
export interface RemoteSession {
  readonly agentId: string
  readonly link: RemoteLink
  /** The secret handed to this connection; the agent's next connection presents it to take over at once. */
  readonly key: string
  current: boolean
  lastSeen: number
}

const newKey = () => randomBytes(24).toString('base64url')
const digest = (value: string) => createHash('sha256').update(value).digest()
/** Constant time, like the tokens: a wrong guess learns nothing from the timing. */
const sameKey = (given: string, key: string) => timingSafeEqual(digest(given), digest(key))

export interface RemoteAgentsOptions {
  logger: Logger
  /** Silence after which an agent is offline (default 15 s; agents heartbeat every 5 s). */
  heartbeatTimeoutMs?: number
  /** How long an offline agent stays listed before it is removed (default 10 min). */
  offlineGraceMs?: number
  now?: () => number
}

export class RemoteAgents {
  private readonly sessions = new Map<string, RemoteSession>()
  private readonly removals = new Map<string, NodeJS.Timeout>()
  private checker: NodeJS.Timeout | null = null
  private stopped = false
  private readonly logger: Logger
  private readonly now: () => number
  readonly heartbeatTimeoutMs: number
  readonly offlineGraceMs: number

  constructor(
    private readonly coordinator: Coordinator,
    options: RemoteAgentsOptions,
  ) {
    this.logger = options.logger
    this.now = options.now ?? Date.now
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? AGENT_HEARTBEAT_TIMEOUT_MS
    this.offlineGraceMs = options.offlineGraceMs ?? AGENT_OFFLINE_GRACE_MS
  }

  /** Starts the liveness check: a few times per timeout, at most once a second. */
  start(): void {
    this.stopped = false
    const every = Math.max(20, Math.min(1000, Math.floor(this.heartbeatTimeoutMs / 3)))
    this.checker = setInterval(() => this.checkLiveness(), every)
    this.checker.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.checker) clearInterval(this.checker)
    this.checker = null
    for (const timer of this.removals.values()) clearTimeout(timer)
    this.removals.clear()
    for (const session of this.sessions.values()) session.current = false
    this.sessions.clear()
  }

  /**
   * Makes `link` the connection of agent `registration.id`, new or returning;
   * refused while another live connection holds the id, unless the
   * registration presents that connection's `sessionKey`.
   */
  attach(registration: AgentRegistration, link: RemoteLink): Result<{ session: RemoteSession; agent: Agent }> {
    if (this.stopped) return fail('unavailable', 'the server is shutting down')
    const { sessionKey, ...fields } = registration
    const { id } = fields
    const existing = this.coordinator.getAgent(id)
    if (existing && existing.kind !== 'remote') {
      return fail('conflict', `agent id ${id} belongs to a ${existing.kind} agent of this server`)
    }
    const previous = this.sessions.get(id)
    if (previous) {
      const silentMs = this.now() - previous.lastSeen
      if (silentMs > this.heartbeatTimeoutMs) {
        // Past the timeout already, the liveness check just has not run yet: free now.
        this.expire(previous)
      } else if (sessionKey !== undefined && sameKey(sessionKey, previous.key)) {
        previous.current = false
        this.sessions.delete(id)
        this.logger.info(
          { agentId: id, address: link.address, previous: previous.link.address },
          'agent reconnected with its session key: its old connection is closed',
        )
        previous.link.close('replaced', `agent ${id} reconnected on a newer connection with this one's session key`)
      } else {
        const why = sessionKey === undefined ? 'no sessionKey' : "a sessionKey that is not the holder's"
        this.logger.info(
          { agentId: id, address: link.address, holder: previous.link.address, silentMs },
          'agent id in use: registration refused',
        )
        return fail(
          'conflict',
          `agent id ${id} is held by a live connection (from ${previous.link.address}, last heard ${silentMs} ms ago) ` +
            `and this registration has ${why}; the id frees when that connection closes, or once it has been ` +
            `silent for the heartbeat timeout (${this.heartbeatTimeoutMs} ms). Register again then (with backoff); ` +
            'the same agent reconnecting presents the sessionKey of its last registration ack to take over at once',
        )
      }
    }
    this.cancelRemoval(id)
    const driver: AgentDriver = { assign: (task) => link.assign(task), cancel: (taskId) => link.cancel(taskId) }
    const spec = { ...fields, kind: 'remote' as const }
    let agent: Agent
    try {
      agent = existing ? this.coordinator.reattachAgent(spec, driver) : this.coordinator.addAgent(spec, driver)
    } catch (error) {
      if (error instanceof CoordinatorError) return fail(error.code, error.message)
      throw error
    }
    const session: RemoteSession = { agentId: id, link, key: newKey(), current: true, lastSeen: this.now() }
    this.sessions.set(id, session)
    this.logger.info(
      { agentId: id, name: registration.name, capabilities: registration.capabilities, address: link.address },
      existing ? 'agent rejoined' : 'agent joined',
    )
    return ok({ session, agent })
  }

  /** Any message from the agent is a sign of life. */
  seen(session: RemoteSession): void {
    session.lastSeen = this.now()
  }

  /** `agent:heartbeat` and `agent:metrics`: also shown to viewers as "last seen" and resource figures. */
  heartbeat(session: RemoteSession, metrics?: AgentMetrics): void {
    this.seen(session)
    this.coordinator.heartbeat(session.agentId, metrics)
  }

  /**
   * The connection ended (`reason`: Socket.IO's disconnect reason): the agent is offline now, its tasks go back
   * to the queue, and how it went is kept for its details and the alert (`offlineCause`).
   */
  detach(session: RemoteSession, reason: string): void {
    if (!session.current) return
    this.lose(session, reason, offlineCause(reason))
  }

  /** Whether the agent holds the task now (assigned or running): reports about other tasks are stale. */
  holds(session: RemoteSession, taskId: string): boolean {
    const task = this.coordinator.getTask(taskId)
    return task !== undefined && task.agentId === session.agentId && isOnAgent(task.status)
  }

  /** Live connections, for tests and metrics. */
  get connected(): number {
    return this.sessions.size
  }

  private checkLiveness(): void {
    const deadline = this.now() - this.heartbeatTimeoutMs
    for (const session of [...this.sessions.values()]) {
      if (session.lastSeen < deadline) this.expire(session)
    }
  }

  /** A connection silent past the timeout: the agent is lost and the connection closed. */
  private expire(session: RemoteSession): void {
    const silentMs = this.now() - session.lastSeen
    const why = `silent for ${silentMs} ms (heartbeat timeout ${this.heartbeatTimeoutMs} ms)`
    this.lose(session, why, { cause: 'silent', detail: why })
    session.link.close('heartbeat_timeout', `no message for ${silentMs} ms; register again`)
  }

  private lose(session: RemoteSession, reason: string, offline: Omit<AgentOffline, 'at'>): void {
    session.current = false
    this.sessions.delete(session.agentId)
    if (this.stopped) return
    const agent = this.coordinator.getAgent(session.agentId)
    if (!agent) return
    this.coordinator.setAgentFault(session.agentId, 'offline', offline)
    const fields = {
      agentId: session.agentId,
      reason,
      requeued: agent.currentTaskIds.length,
      address: session.link.address,
    }
    // A clean disconnect is the agent's own doing (a stop, Ctrl-C): worth a line, not a warning.
    if (offline.cause === 'disconnected') this.logger.info(fields, 'agent disconnected')
    else this.logger.warn(fields, offline.cause === 'silent' ? 'agent lost: silent' : 'agent lost: connection dropped')
    this.scheduleRemoval(session.agentId)
  }

  private scheduleRemoval(agentId: string): void {
    this.cancelRemoval(agentId)
    const timer = setTimeout(() => {
      this.removals.delete(agentId)
      if (this.sessions.has(agentId) || this.coordinator.getAgent(agentId)?.status !== 'offline') return
      this.coordinator.removeAgent(agentId)
      this.logger.info({ agentId, graceMs: this.offlineGraceMs }, 'offline agent removed')
    }, this.offlineGraceMs)
    timer.unref()
    this.removals.set(agentId, timer)
  }

  private cancelRemoval(agentId: string): void {
    const timer = this.removals.get(agentId)
    if (timer) clearTimeout(timer)
    this.removals.delete(agentId)
  }
}

/**
 * How a connection's end reads, from Socket.IO's disconnect reason: the client
 * closing its namespace is a clean disconnect (the SDK's `close()`,
 * python-socketio's `disconnect()`); a ping timeout is silence; anything else
 * ended without a goodbye (the process died, the network failed).
 */
export function offlineCause(reason: string): Omit<AgentOffline, 'at'> {
  if (reason === 'client namespace disconnect')
    return { cause: 'disconnected', detail: 'the agent closed its connection' }
  if (reason === 'ping timeout') return { cause: 'silent', detail: 'no answer to pings (ping timeout)' }
  return { cause: 'dropped', detail: reason }
}
