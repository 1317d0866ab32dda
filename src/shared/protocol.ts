/**
 * The wire contract: Socket.IO event maps per namespace and the HTTP shapes.
 * Server, renderer and agent SDK all import these; docs/protocol.md
 * documents them for everybody else.
 */
import type { Agent, AgentResources, Alert, MetricsState, Role, Task } from './domain'
import type { DomainEvent, LogLevel } from './events'
import type { Ack } from './result'
import type { AgentRef, SubscribeRequest, SyncRequest, TaskRef, TaskSubmitRequest } from './commands'

export const DASHBOARD_NAMESPACE = '/dashboard'
export const AGENTS_NAMESPACE = '/agents'

/** Everything a viewer needs to draw the swarm from nothing. */
export interface Snapshot {
  /** The seq of the last event this state includes. */
  seq: number
  agents: Agent[]
  /** Active tasks and the most recent finished ones, bounded. */
  tasks: Task[]
  metrics: MetricsState
  alerts: Alert[]
}

export interface Welcome {
  role: Role
  version: string
  serverTime: number
}

/** Answer to `sync`: the missed events, or a snapshot when the gap is gone from the buffer. */
export type SyncResponse = { kind: 'events'; events: DomainEvent[] } | { kind: 'snapshot'; snapshot: Snapshot }

export interface DashboardServerToClient {
  welcome: (welcome: Welcome) => void
  snapshot: (snapshot: Snapshot) => void
  events: (events: DomainEvent[]) => void
}

export interface DashboardClientToServer {
  subscribe: (request: SubscribeRequest, ack: Ack<SubscribeRequest>) => void
  sync: (request: SyncRequest, ack: Ack<SyncResponse>) => void
  ping: (ack: Ack<{ serverTime: number }>) => void
  'task:submit': (request: TaskSubmitRequest, ack: Ack<Task>) => void
  'task:cancel': (request: TaskRef, ack: Ack<Task>) => void
  'task:retry': (request: TaskRef, ack: Ack<Task>) => void
  'agent:pause': (request: AgentRef, ack: Ack<Agent>) => void
  'agent:resume': (request: AgentRef, ack: Ack<Agent>) => void
}

export interface AgentRegistration {
  id: string
  name: string
  capabilities: string[]
  concurrency?: number
}

export interface AgentsServerToClient {
  'task:assign': (message: { task: Task }) => void
  'task:cancel': (message: { taskId: string }) => void
}

export interface AgentsClientToServer {
  'agent:register': (registration: AgentRegistration, ack: Ack<{ agentId: string }>) => void
  'agent:heartbeat': () => void
  'agent:metrics': (metrics: AgentResources) => void
  'task:progress': (message: { taskId: string; progress: number; message?: string }) => void
  'task:complete': (message: { taskId: string; result?: unknown }) => void
  'task:fail': (message: { taskId: string; error: string }) => void
  log: (message: { taskId?: string; level: LogLevel; message: string }) => void
}

/** `GET /healthz`, no token needed. */
export interface Health {
  status: 'ok'
  version: string
  uptimeS: number
}
