/**
 * What the orchestrator asks of its two children — the server process and
 * the load-client process — and what they answer. Plain data only (IPC).
 */
import type { Channel, DomainEventType } from '../src/shared/events'

export const BENCH_TOKENS = {
  operator: 'bench-operator-token-0000000000',
  viewer: 'bench-viewer-token-00000000000',
  agent: 'bench-agent-token-000000000000',
}

export const BENCH_TOKEN_ENV = {
  SWARM_MONITOR_OPERATOR_TOKEN: BENCH_TOKENS.operator,
  SWARM_MONITOR_VIEWER_TOKEN: BENCH_TOKENS.viewer,
  SWARM_MONITOR_AGENT_TOKEN: BENCH_TOKENS.agent,
}

export interface ServerSetup {
  /** A bare Socket.IO server instead of the core: the floor of the latency and capacity figures. */
  baseline?: boolean
  /** Run the demo swarm (simulated agents and tasks at real pace). */
  demo: boolean
  demoAgents: number
  /** Synthetic demo tasks per second. */
  demoRate: number
  /** WebSocket permessage-deflate (`--ws-compression`); clients report whether it was negotiated. */
  compression: boolean
  /** Agents the load injector registers for its own tasks, heartbeats and logs. */
  injectorAgents: number
  /** The built dashboard to serve (out/renderer), for the renderer scenario; none by default. */
  rendererDir?: string
  /** `--database` (the history backend); default SQLite in the temporary data dir. */
  database?: string
  /** More command-line flags for the core, e.g. raised viewer caps; scenarios print the ones they set. */
  flags?: string[]
  /** The core as built in out/main (bench/built-core.ts), not the sources under tsx: for memory figures. */
  built?: boolean
}

export interface ServerReady {
  url: string
  pid: number
}

/** Load put on the coordinator from inside the server process. */
export interface LoadSpec {
  /** `task:log` events (logs channel, 1 s window). */
  logsPerS: number
  /** Characters of each log line (default: a short sentence, ~60). */
  logBytes?: number
  /** Level of the log lines (default `info`; `error` lines leave at once, each in its own batch). */
  logLevel?: 'info' | 'error'
  /** Agent heartbeats, each an `agent:status` event (agents channel, 200 ms window, coalesced). */
  heartbeatsPerS: number
  /** Tasks submitted; each yields ~5 events and one immediate terminal event. */
  tasksPerS: number
  /** How long an injector agent works on a task. */
  taskMs: number
  durationMs: number
}

export interface LoadReport {
  durationMs: number
  logs: number
  heartbeats: number
  tasks: number
  completed: number
  /** Longest a tick of the injector was late: the server's event loop was busy. */
  maxTickLateMs: number
  /** Tasks still held or queued when the drain gave up (0: drained). */
  undrained: number
}

export interface ProcessSample {
  at: number
  rssMb: number
  heapUsedMb: number
  externalMb: number
  /** Cumulative CPU time of the process (user + system), ms. */
  cpuMs: number
  /** Event-loop delay since the previous sample (perf_hooks, 10 ms resolution), ms. */
  loopDelayP99Ms: number
  loopDelayMaxMs: number
}

export interface ServerApi {
  start: [ServerSetup, ServerReady]
  /** The seq of the last event (the core's, or the bare server's). */
  seq: [null, number]
  runLoad: [LoadSpec, LoadReport]
  /** Finishes `tasks` quick tasks on the injector's agents, then removes those agents: a server with its task history full. */
  prefill: [{ tasks: number }, LoadReport]
  sample: [{ gc: boolean }, ProcessSample]
  /** Queues `tasks` tasks of `kind` that no agent can take (the bulk scenario's), in slices; resolves once queued. */
  park: [{ tasks: number; kind: string }, { queued: number }]
  stop: [null, null]
}

/** What a viewer offers in its handshake (`auth.encoding`); `json`: nothing, as old clients. */
export type BenchEncoding = 'json' | 'deflate-raw'

export interface ConnectRequest {
  url: string
  token: string
  count: number
  /** Connections opened at once. */
  wave: number
  timeoutMs: number
  /** Default `json`. */
  encoding?: BenchEncoding
}

export interface ConnectReport {
  connected: number
  failed: number
  ms: number
  /** Whether the WebSocket negotiated permessage-deflate. */
  deflate: boolean
  /** Whether every viewer's server said it would send deflate-raw (`welcome.encoding`). */
  deflateRaw: boolean
  errors: string[]
}

/** Delivery of the events between two seqs, for the capacity scenario. */
export interface WindowRequest {
  /** The server's seq when the step began (its events are not counted) … */
  from: number
  /** … and when it ended. */
  to: number
  /** Wait up to this long for every viewer to reach `to`. */
  timeoutMs: number
}

/** Sparse latency histogram: [bin, count] pairs of 0.1 ms bins (Histogram.toSparse). */
export type SparseHistogram = [number, number][]

export interface WindowReport {
  clients: number
  connected: number
  disconnects: number
  resyncs: number
  outOfOrder: number
  /** Events of the window that reached a viewer as events, summed over viewers. */
  delivered: number
  /** Viewers whose last seq reached `to` within the timeout. */
  reached: number
  waitedMs: number
  /** Arrival − `at` of every event received since the reset, all channels. */
  delays: SparseHistogram
}

export interface Distribution {
  count: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

export interface ClientStats {
  clients: number
  connected: number
  disconnects: number
  messages: number
  events: number
  /** Snapshots after the first: the server resynced a client that fell behind. */
  resyncs: number
  /** Events whose seq was not above the last applied one (duplicates or reordering). */
  outOfOrder: number
  /** Arrival − `at` of terminal task events (immediate), ms. */
  immediate: Distribution
  /** Arrival − `at` per channel of non-immediate events, ms. */
  channels: Record<Channel, Distribution>
  /** The same, counting each event once, at the first client it reached. */
  firstImmediate: Distribution
  firstChannels: Record<Channel, Distribution>
  elapsedMs: number
}

export interface ConvergeRequest {
  url: string
  token: string
  timeoutMs: number
  /** Count only the viewers still connected (the cluster scenario's, whose node was killed); default all. */
  connectedOnly?: boolean
}

export interface ConvergeReport {
  /** The server's seq in `GET /api/snapshot`. */
  seq: number
  clients: number
  /** Clients whose last applied seq reached the snapshot's. */
  reachedSeq: number
  minLastSeq: number
  /** Clients whose agents and tasks equal the snapshot's. */
  stateEqual: number
  mismatches: string[]
  waitedMs: number
}

export interface BytesRequest {
  url: string
  token: string
  durationMs: number
  pollIntervalMs: number
  /** What the push viewer offers (default `json`). */
  encoding?: BenchEncoding
}

export interface TrafficCount {
  /** Bytes server → client, counted on the TCP stream. */
  down: number
  /** Bytes client → server. */
  up: number
}

/** Per event type in a recorded push stream: how many, their bytes in the frames (bench/event-sizes.ts). */
export type EventSizes = Partial<
  Record<
    DomainEventType,
    {
      count: number
      /** Their JSON text in the `events` messages, a comma each. */
      bytes: number
      maxBytes: number
      /** Their share of each batch compressed alone (an estimate unless an encoding measures it); null: not measured. */
      compressedBytes: number | null
    }
  >
>

export interface BytesReport {
  durationMs: number
  push: TrafficCount & {
    messages: number
    payloadBytes: number
    /** What each kind of event took in the push stream. */
    events: EventSizes
    /** Estimated bytes down with permessage-deflate (threshold 1 KiB, context takeover). */
    deflateEstimate: number
    /** Whether this connection negotiated permessage-deflate (then `down` is already compressed). */
    deflate: boolean
  }
  poll: TrafficCount & {
    requests: number
    failed: number
    meanBodyBytes: number
    /** Estimated bytes down if the responses were gzip-encoded. */
    gzipEstimate: number
  }
}

/** One SDK agent (src/sdk) draining tasks queued for it alone; bench/sdk-agent-run.ts. */
export interface AgentRunRequest {
  url: string
  /** Agent id; also the kind and capability of its tasks, so runs on one server do not share tasks. */
  id: string
  tasks: number
  concurrency: number
  /** What the handler sends per task, besides the SDK's own progress 0. */
  logLines: number
  progressReports: number
  /** How long the handler works per task, ms (0: returns at once). */
  workMs: number
  timeoutMs: number
}

export interface AgentRunReport {
  tasks: number
  /** Tasks the server counted done for this agent. */
  completed: number
  /** From the agent's registration to its last task done. */
  ms: number
  tasksPerS: number
  /** Task ids the handler ran more than once. */
  duplicates: number
  /** `swarm_rate_limited_total{via="/agents"}` added during the run. */
  rateLimited: number
  /** Refusals the SDK logged (any code). */
  refusals: number
  /** Times the agent's link went down (a flood disconnect among them). */
  reconnects: number
  /** Log lines that reached a viewer, of the `tasks × logLines` sent. */
  logLinesSeen: number
}

/** Tasks posted to `POST /api/tasks` by `concurrency` lanes, one in flight each, for `durationMs`. */
export interface SubmitRunRequest {
  url: string
  token: string
  concurrency: number
  durationMs: number
}

export interface SubmitRunReport {
  /** `201`s: tasks accepted, each committed to the history before its answer. */
  accepted: number
  /** Other answers, by HTTP status. */
  refused: Record<string, number>
  /** Requests that got no answer (a network error, a 30 s timeout). */
  failed: number
  ms: number
  perSecond: number
  /** Request to `201`, ms. */
  latency: Distribution
}

/** Terminal task events' delays, to merge over client processes (client-pool.ts). */
export interface ImmediateDetail {
  disconnects: number
  /** Every arrival at every viewer. */
  delays: SparseHistogram
  /** Per seq, the delay at the first viewer of this process it reached. */
  first: [number, number][]
}

export interface ClientsApi {
  connect: [ConnectRequest, ConnectReport]
  window: [WindowRequest, WindowReport]
  immediate: [null, ImmediateDetail]
  reset: [null, null]
  stats: [null, ClientStats]
  converge: [ConvergeRequest, ConvergeReport]
  disconnect: [null, null]
  sample: [null, ProcessSample]
  bytes: [BytesRequest, BytesReport]
  agentRun: [AgentRunRequest, AgentRunReport]
  submitRun: [SubmitRunRequest, SubmitRunReport]
  /** Records what one more viewer receives for a while: Engine.IO message frames as sent. */
  record: [{ url: string; token: string; durationMs: number }, { messages: string[] }]
}
