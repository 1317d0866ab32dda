/**
 * The wire contract: Socket.IO event maps per namespace and the HTTP shapes.
 * Server, renderer and agent SDK all import these; docs/protocol.md
 * documents them for everybody else.
 */
import type { Agent, Alert, MetricsState, Role, Task, TaskSummary } from './domain'
import type { DomainEvent } from './events'
import type {
  AgentClosed,
  AgentLog,
  AgentMetrics,
  AgentRegistered,
  AgentRegistration,
  TaskComplete,
  TaskFail,
  TaskProgress,
} from './agent-messages'
import type { AckData, RequestOf } from './event-map'
import type { Ack } from './result'
import type { RoutingPolicy } from './routing'
import type {
  AgentRef,
  AlertRef,
  KindUpdateRequest,
  SubscribeRequest,
  SyncRequest,
  TaskRef,
  TaskSubmitRequest,
  WorkflowRef,
  WorkflowSubmitRequest,
} from './commands'
import type { WorkflowActed, WorkflowSubmitted } from './workflows'
import type { Schedule, ScheduleCreateRequest, ScheduleRef, ScheduleSummary } from './schedules'
import type { TaskBulkAnswer, TaskBulkRequest } from './task-bulk'
import type { KindInfo, KindState } from './kinds'
import type { NodeHealth } from './cluster'

export const DASHBOARD_NAMESPACE = '/dashboard'
export const AGENTS_NAMESPACE = '/agents'

/** Everything a viewer needs to draw the swarm from nothing. */
export interface Snapshot {
  /** The seq of the last event this state includes. */
  seq: number
  agents: Agent[]
  /**
   * Every active task and the most recent finished ones (500), as summaries:
   * payloads and results are served by `GET /api/tasks/:id`.
   */
  tasks: TaskSummary[]
  metrics: MetricsState
  alerts: Alert[]
  /** Every kind with limits set (at most 1,000: `KIND_LIMITS.configured`), by name. */
  kinds: KindState[]
  /** Every schedule (at most 200), without what its runs submit (`ScheduleSummary`), by name. */
  schedules: ScheduleSummary[]
}

export interface Welcome {
  role: Role
  /**
   * How `events` and `snapshot` reach this connection: `json` (plain), or `deflate-raw` when the viewer offered it
   * (`auth.encoding`): batches and snapshots of 512 bytes of JSON or more then come as `events:deflate-raw` and
   * `snapshot:deflate-raw`, smaller ones still as `events` and `snapshot`. Absent from servers older than it.
   */
  encoding?: ViewerEncoding
  version: string
  serverTime: number
  /**
   * True when the viewer connected with `auth.sinceSeq` still in the server's
   * buffer: the missed events follow as one `events` message, no snapshot.
   */
  resumed: boolean
  /** This server process; a resume is accepted only by the process that sent the events. */
  instance: string
  /** Which agents may run which tasks beyond kinds and capabilities (`--allow-remote-shell-agents`). */
  routing: RoutingPolicy
}

/**
 * How a viewer may have its `events` and `snapshot` messages encoded. `deflate-raw`: the JSON compressed once per
 * batch on the server (raw DEFLATE, RFC 1951: what `DecompressionStream('deflate-raw')` and Python's
 * `zlib.decompress(data, -15)` inflate), sent in base64, the same text for every viewer that asked for it.
 */
export type ViewerEncoding = 'json' | 'deflate-raw'
export const VIEWER_ENCODINGS: readonly ViewerEncoding[] = ['json', 'deflate-raw']

/** Handshake `auth` for `/dashboard`. */
export interface DashboardAuth {
  token: string
  /**
   * The encoding this viewer can decode (default `json`). A name the server does not know is ignored (plain JSON,
   * and `welcome.encoding` says so); anything but a string is refused (`bad_request`).
   */
  encoding?: string
  /** The last seq this viewer applied, to resume without a snapshot. */
  sinceSeq?: number
  /** `welcome.instance` of the server those events came from; required with `sinceSeq`. */
  instance?: string
}

/** Answer to `sync`: the missed events, or a snapshot when the gap is gone from the buffer. */
export type SyncResponse = { kind: 'events'; events: DomainEvent[] } | { kind: 'snapshot'; snapshot: Snapshot }

export interface DashboardServerToClient {
  welcome: (welcome: Welcome) => void
  snapshot: (snapshot: Snapshot) => void
  events: (events: DomainEvent[]) => void
  /** `events`, its JSON compressed (`encoding: 'deflate-raw'` only): the base64 of the raw DEFLATE bytes. */
  'events:deflate-raw': (deflated: string) => void
  /** `snapshot`, its JSON compressed, likewise. */
  'snapshot:deflate-raw': (deflated: string) => void
}

/**
 * The operator commands: refused to a viewer token, queued by clients while
 * the link is down. The server's command table and the clients' `command()`
 * are typed from this map.
 */
export interface DashboardCommands {
  'task:submit': (request: TaskSubmitRequest, ack: Ack<Task>) => void
  'task:cancel': (request: TaskRef, ack: Ack<Task>) => void
  'task:retry': (request: TaskRef, ack: Ack<Task>) => void
  /** Cancels or retries many tasks, by filter or ids, in one action (`task-bulk.ts`). */
  'task:bulk': (request: TaskBulkRequest, ack: Ack<TaskBulkAnswer>) => void
  'agent:pause': (request: AgentRef, ack: Ack<Agent>) => void
  'agent:resume': (request: AgentRef, ack: Ack<Agent>) => void
  /** Marks an alert as seen by an operator; it stays listed until its condition clears. */
  'alert:ack': (request: AlertRef, ack: Ack<Alert>) => void
  /** Queues a named graph of tasks, all or none (`POST /api/workflows`). */
  'workflow:submit': (request: WorkflowSubmitRequest, ack: Ack<WorkflowSubmitted>) => void
  /** Cancels every task of the workflow that has not ended. */
  'workflow:cancel': (request: WorkflowRef, ack: Ack<WorkflowActed>) => void
  /** Retries every task of the workflow that failed, timed out or was cancelled. */
  'workflow:retry-failed': (request: WorkflowRef, ack: Ack<WorkflowActed>) => void
  /** Pauses or resumes a task kind, sets or clears its `maxRunning` and `maxPerMinute` (`PATCH /api/kinds/:kind`). */
  'kind:update': (request: KindUpdateRequest, ack: Ack<KindInfo>) => void
  /** Stores a cron schedule of a task or a workflow (`POST /api/schedules`). */
  'schedule:create': (request: ScheduleCreateRequest, ack: Ack<Schedule>) => void
  'schedule:pause': (request: ScheduleRef, ack: Ack<Schedule>) => void
  'schedule:resume': (request: ScheduleRef, ack: Ack<Schedule>) => void
  /** One run now, under the schedule's overlap rule; answered once it is submitted (or skipped). */
  'schedule:run': (request: ScheduleRef, ack: Ack<Schedule>) => void
  'schedule:delete': (request: ScheduleRef, ack: Ack<Schedule>) => void
}
export type CommandName = keyof DashboardCommands
export type CommandRequest<N extends CommandName> = RequestOf<DashboardCommands, N>
export type CommandData<N extends CommandName> = AckData<DashboardCommands, N>

export interface DashboardClientToServer extends DashboardCommands {
  subscribe: (request: SubscribeRequest, ack: Ack<SubscribeRequest>) => void
  sync: (request: SyncRequest, ack: Ack<SyncResponse>) => void
  ping: (ack: Ack<{ serverTime: number }>) => void
}

export interface AgentsServerToClient {
  'task:assign': (message: { task: Task }) => void
  /** Stop work on the task (operator cancel, timeout); report nothing more about it. */
  'task:cancel': (message: { taskId: string }) => void
  /** Sent just before the server closes the connection itself. */
  'agent:closed': (message: AgentClosed) => void
}

/**
 * Every acknowledgement is optional on the wire (a client may emit without
 * one); the SDK always asks for it. Messages before `agent:register` are refused.
 */
export interface AgentsClientToServer {
  'agent:register': (registration: AgentRegistration, ack: Ack<AgentRegistered>) => void
  'agent:heartbeat': (ack: Ack<{ serverTime: number }>) => void
  'agent:metrics': (metrics: AgentMetrics, ack: Ack<null>) => void
  'task:progress': (message: TaskProgress, ack: Ack<null>) => void
  'task:complete': (message: TaskComplete, ack: Ack<null>) => void
  'task:fail': (message: TaskFail, ack: Ack<null>) => void
  log: (message: AgentLog, ack: Ack<null>) => void
}

/** `GET /healthz`, no token needed. */
export interface Health {
  status: 'ok'
  version: string
  uptimeS: number
  /** Which node answered and its role now (a single server: its own leader). */
  node: NodeHealth
}
