/**
 * The SDK's public types: what `createAgent` takes and returns, and what a
 * handler gets. agent.ts re-exports them.
 */
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client'
import type { AgentMetrics } from '../shared/agent-messages'
import type { ResilientConnection } from '../shared/client/connection'
import type { Task } from '../shared/domain'
import type { LogLevel } from '../shared/events'
import type { AgentsClientToServer, AgentsServerToClient } from '../shared/protocol'
import type { OutboxOptions } from './outbox'

export type AgentSocket = Socket<AgentsServerToClient, AgentsClientToServer>

export interface TaskContext {
  /** Reports progress, 0–1 (clamped), with an optional line for the task's log. */
  progress(progress: number, message?: string): void
  /** Adds a line to the task's log. */
  log(level: LogLevel, message: string): void
  /** Aborted when the task is cancelled or timed out by the server, or the connection is lost. */
  readonly signal: AbortSignal
}

/** Runs one task; the value it returns (JSON) is the task's result, an error it throws fails the task. */
export type TaskHandler = (task: Task, ctx: TaskContext) => unknown

export type AgentState = 'connecting' | 'registered' | 'reconnecting' | 'closed'

/** Why an agent stopped for good. */
export interface AgentEnd {
  /**
   * `closed`: `close()` was called; `refused`: bad token or registration;
   * `replaced`: a newer connection took the id over with this one's session key.
   */
  reason: 'closed' | 'refused' | 'replaced'
  message: string
}

export interface AgentOptions {
  /** The server, e.g. `http://127.0.0.1:7420` (the `/agents` namespace is added). */
  url: string
  /** The agent token (`SWARM_MONITOR_AGENT_TOKEN`, or `agent` in `<data-dir>/tokens.json`). */
  token: string
  /** Stable across restarts: a process that comes back with the same id takes its place again. */
  id: string
  name?: string
  capabilities: string[]
  /**
   * The task kinds `handler` runs; only those are assigned to this agent.
   * Absent: any kind its capabilities allow (then the handler must refuse the others).
   */
  kinds?: string[]
  /** Tasks run at once (default 1). */
  concurrency?: number
  handler: TaskHandler
  /** `agent:heartbeat` every this many ms (default 5000). */
  heartbeatIntervalMs?: number
  /**
   * An unanswered heartbeat counts as missed after this long (default 4000);
   * two missed in a row close the link and reconnect.
   */
  heartbeatTimeoutMs?: number
  /** Resource figures sent with each heartbeat; default: this process's CPU and memory; `false`: none. */
  metrics?: (() => AgentMetrics) | false
  /** Reconnection delays (defaults 1000, 30000, 0.2). */
  reconnectDelayMs?: number
  reconnectDelayMaxMs?: number
  reconnectJitter?: number
  /**
   * Pace and bound of task reports (defaults 40 a second, bursts of 40, 1,000
   * waiting): keep them under the server's per-connection limit (50, bursts of 100).
   */
  outgoing?: OutboxOptions
  /** Diagnostics (connects, losses, refusals); default: none. */
  onLog?: (level: LogLevel, message: string) => void
  /** Extra socket.io-client options (e.g. `transports: ['websocket']`, TLS `ca`). */
  socket?: Partial<ManagerOptions & SocketOptions>
}

export interface SwarmAgent {
  readonly id: string
  readonly state: AgentState
  /** Resolves once the first registration is acknowledged; rejects if the agent is refused before that. */
  readonly connected: Promise<void>
  /** Resolves when the agent stops for good, saying why. */
  readonly ended: Promise<AgentEnd>
  /** Tasks being worked on now. */
  readonly running: number
  /** The underlying socket, for tests and diagnostics. */
  readonly socket: AgentSocket
  /** The link's state machine: `status` (state, attempt, RTT, quality, history) and `on('state' | 'change', …)`. */
  readonly connection: ResilientConnection
  /** Disconnects; tasks still running are aborted and requeued by the server. */
  close(): Promise<void>
}
