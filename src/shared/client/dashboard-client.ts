/**
 * A viewer's client for `/dashboard`, shared by the renderer and Node
 * programs (tests, scripts): the resilient connection, resume on reconnect,
 * the REST fallback while the socket cannot connect, and the operator
 * command queue. It hands out snapshots and events; whoever holds the state
 * applies them with the shared reducer (`../reducer.ts`): the renderer's
 * swarm store, or `replicate(client)` (`replica.ts`) in Node.
 *
 * Nothing lost, nothing doubled: the client remembers the seq of the last
 * snapshot or event it handed out and the server process it came from
 * (`welcome.instance`), and asks for a resume from there on every
 * (re)connect. The same server replays exactly the events after that seq;
 * a restarted one (another instance), or a gap too old, sends a snapshot.
 *
 * Compression: where the platform can inflate raw DEFLATE
 * (`DecompressionStream`, in browsers and Node ≥ 20), the client offers
 * `auth.encoding: 'deflate-raw'`, and the server then sends large batches
 * and snapshots compressed once for all such viewers. Every message goes
 * through one ordered inbox (`inbox.ts`), so decoding never reorders them.
 */
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client'
import type { Role } from '../domain'
import type { DomainEvent } from '../events'
import type { RoutingPolicy } from '../routing'
import type {
  CommandData,
  CommandName,
  CommandRequest,
  DashboardAuth,
  DashboardClientToServer,
  DashboardCommands,
  DashboardServerToClient,
  Snapshot,
  ViewerEncoding,
  Welcome,
} from '../protocol'
import type { Result } from '../result'
import type { BackoffOptions } from './backoff'
import { CommandQueue, type CommandQueueOptions } from './command-queue'
import { ResilientConnection, type ConnectionStatus } from './connection'
import { Emitter } from './emitter'
import type { HeartbeatOptions } from './heartbeat'
import { Inbox, nativeInflate, type Inflate } from './inbox'
import { startSnapshotPoller, type FetchLike, type SnapshotPoller } from './snapshot-poller'
import type { ClientLog, Transition } from './states'

export type DashboardSocket = Socket<DashboardServerToClient, DashboardClientToServer>
export type SocketFactory = (url: string, options: Partial<ManagerOptions & SocketOptions>) => DashboardSocket

export type { CommandData, CommandName, CommandRequest }

/**
 * `emitWithAck` for the commands, read off the same map. socket.io-client types it per event name, through
 * conditional types TypeScript cannot follow for a name that is a type parameter, hence the one assertion.
 */
type EmitCommand = <N extends CommandName>(name: N, payload: CommandRequest<N>) => Promise<Result<CommandData<N>>>

export interface DashboardTuning {
  backoff: BackoffOptions
  stableAfterMs: number
  connectTimeoutMs: number
  heartbeat: HeartbeatOptions
  /** Failed attempts before the REST fallback (5). */
  pollAfterFailures: number
  pollIntervalMs: number
  commands: Omit<CommandQueueOptions, 'send' | 'log'>
}

export const DASHBOARD_TUNING: DashboardTuning = {
  backoff: {},
  stableAfterMs: 10_000,
  connectTimeoutMs: 10_000,
  heartbeat: {},
  pollAfterFailures: 5,
  pollIntervalMs: 1000,
  commands: {},
}

export interface DashboardClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:7420`. */
  url: string
  token: string
  /** socket.io-client's `io` (or a test's). */
  createSocket: SocketFactory
  /** The platform's `fetch`, for the REST fallback. */
  fetch: FetchLike
  tuning?: Partial<DashboardTuning>
  /** Extra socket.io-client options, e.g. `transports`. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>
  /**
   * Inflates raw DEFLATE, to be offered compressed batches (`auth.encoding: 'deflate-raw'`). Default: the
   * platform's `DecompressionStream` where it has one; null: plain JSON only.
   */
  inflate?: Inflate | null
  log?: ClientLog
}

export interface DashboardStatus extends ConnectionStatus {
  role: Role | null
  serverVersion: string | null
  /** The server's routing policy, from its `welcome`; null before the first one. */
  routing: RoutingPolicy | null
  /** The last seq handed out (snapshot or event); null before the first snapshot. */
  seq: number | null
  /** Whether the last connect resumed from `seq` (events only) rather than starting from a snapshot. */
  resumed: boolean | null
  /** How the server encodes events for this connection (its `welcome`); null before the first one. */
  encoding: ViewerEncoding | null
  queuedCommands: number
  pendingCommands: number
  lastPollAt: number | null
}

export interface DashboardEvents {
  change: DashboardStatus
  state: Transition
  welcome: Welcome
  snapshot: Snapshot
  events: DomainEvent[]
}

export class DashboardClient {
  readonly socket: DashboardSocket
  readonly connection: ResilientConnection
  private readonly events: Emitter<DashboardEvents>
  private readonly queue: CommandQueue<DashboardCommands>
  private readonly tuning: DashboardTuning
  private readonly log: ClientLog
  private poller: SnapshotPoller | null = null
  /** Whether the last REST poll reached the server; null before the first answer. */
  private pollReachable: boolean | null = null
  private role: Role | null = null
  private serverVersion: string | null = null
  private routing: RoutingPolicy | null = null
  private instance: string | null = null
  private seq: number | null = null
  private resumed: boolean | null = null
  private encoding: ViewerEncoding | null = null
  private lastPollAt: number | null = null
  private readonly inbox: Inbox

  constructor(private readonly options: DashboardClientOptions) {
    this.log = options.log ?? (() => {})
    this.events = new Emitter((error) => this.log('error', `a dashboard listener failed: ${String(error)}`))
    const t = options.tuning ?? {}
    this.tuning = {
      ...DASHBOARD_TUNING,
      ...t,
      backoff: { ...DASHBOARD_TUNING.backoff, ...t.backoff },
      heartbeat: { ...DASHBOARD_TUNING.heartbeat, ...t.heartbeat },
      commands: { ...DASHBOARD_TUNING.commands, ...t.commands },
    }
    this.inbox = new Inbox(options.inflate === undefined ? nativeInflate() : options.inflate, (error) => {
      this.log('error', `a compressed message could not be decoded: ${String(error)}`)
      this.connection.restart('a message from the server could not be decoded; resuming from the last seq applied')
    })
    const socket = options.createSocket(`${options.url}/dashboard`, {
      ...options.socketOptions,
      autoConnect: false,
      reconnection: false,
      forceNew: true,
      // Asked again on every (re)connect: resume after the last seq handed out, on the same server process —
      // once every message of the previous connection is applied, so that seq is exact.
      auth: (callback) => {
        const send = () => {
          // A message of the last connection that could not be decoded stopped the rest; this one starts afresh.
          this.inbox.resume()
          callback(this.auth())
        }
        if (!this.inbox.busy) return send()
        void this.inbox.drained().then(send)
      },
    })
    this.socket = socket
    this.connection = new ResilientConnection({
      socket,
      backoff: this.tuning.backoff,
      stableAfterMs: this.tuning.stableAfterMs,
      connectTimeoutMs: this.tuning.connectTimeoutMs,
      pollAfterFailures: this.tuning.pollAfterFailures,
      heartbeat: {
        ...this.tuning.heartbeat,
        ping: async (timeoutMs) => {
          const answer = await socket.timeout(timeoutMs).emitWithAck('ping')
          return answer.ok ? answer.data.serverTime : null
        },
      },
      log: this.log,
    })
    this.queue = new CommandQueue({
      ...this.tuning.commands,
      log: this.log,
      send: (name, payload, timeoutMs) => {
        const timed = socket.timeout(timeoutMs)
        const emit = timed.emitWithAck.bind(timed) as EmitCommand
        return emit(name, payload)
      },
    })

    socket.on('welcome', (welcome) => this.inbox.plain(() => this.welcomed(welcome)))
    socket.on('snapshot', (snapshot) => this.inbox.plain(() => this.applySnapshot(snapshot)))
    socket.on('events', (events) => this.inbox.plain(() => this.applyEvents(events)))
    socket.on('snapshot:deflate-raw', (data) =>
      this.inbox.compressed(data, (snapshot: Snapshot) => this.applySnapshot(snapshot)),
    )
    socket.on('events:deflate-raw', (data) =>
      this.inbox.compressed(data, (events: DomainEvent[]) => this.applyEvents(events)),
    )

    this.connection.on('state', (transition) => {
      if (transition.to === 'polling') this.startPolling()
      else if (transition.from === 'polling') this.stopPolling()
      this.events.emit('state', transition)
    })
    this.connection.on('open', () => this.queue.linkUp())
    this.connection.on('close', () => this.queue.linkDown())
    this.connection.on('change', () => this.changed())
  }

  on<K extends keyof DashboardEvents>(event: K, listener: (value: DashboardEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  get status(): DashboardStatus {
    return {
      ...this.connection.status,
      role: this.role,
      serverVersion: this.serverVersion,
      routing: this.routing,
      seq: this.seq,
      resumed: this.resumed,
      encoding: this.encoding,
      queuedCommands: this.queue.queued,
      pendingCommands: this.queue.pending,
      lastPollAt: this.lastPollAt,
    }
  }

  start(): void {
    this.connection.start()
  }

  /** Closes on purpose; queued commands keep waiting for the next `start`. */
  stop(): void {
    this.stopPolling()
    this.connection.stop('disconnected by the user')
  }

  /** The user's "reconnect now": skip the wait, or start again after a stop or an error. */
  reconnectNow(): void {
    const { state } = this.connection.status
    if (state === 'disconnected' || state === 'error') this.connection.start('reconnect requested')
    else this.connection.reconnectNow('asked by the user')
  }

  /**
   * Sends an operator command now, or as soon as the link is back (queued,
   * in order, exactly once). Resolves with the server's acknowledgement or a
   * refusal (`queue_full`, `unavailable` with the reason); never rejects.
   */
  async command<N extends CommandName>(name: N, payload: CommandRequest<N>): Promise<Result<CommandData<N>>> {
    const pending = this.queue.enqueue(name, payload)
    this.changed()
    const result = await pending
    this.changed()
    return result
  }

  dispose(message = 'the client was closed'): void {
    this.stopPolling()
    this.queue.dispose(message)
    this.connection.dispose()
    this.socket.off('welcome').off('snapshot').off('events').off('snapshot:deflate-raw').off('events:deflate-raw')
    this.events.clear()
  }

  private auth(): DashboardAuth {
    const { token } = this.options
    const offer: DashboardAuth = this.inbox.inflate ? { token, encoding: 'deflate-raw' } : { token }
    return this.seq !== null && this.instance !== null
      ? { ...offer, sinceSeq: this.seq, instance: this.instance }
      : offer
  }

  private welcomed(welcome: Welcome): void {
    this.role = welcome.role
    this.serverVersion = welcome.version
    this.routing = welcome.routing
    this.instance = welcome.instance
    this.resumed = welcome.resumed
    this.encoding = welcome.encoding ?? 'json'
    this.events.emit('welcome', welcome)
    this.changed()
  }

  private applySnapshot(snapshot: Snapshot): void {
    this.seq = snapshot.seq
    this.events.emit('snapshot', snapshot)
    this.changed()
  }

  private applyEvents(events: DomainEvent[]): void {
    const last = events.at(-1)
    if (last && (this.seq === null || last.seq > this.seq)) this.seq = last.seq
    this.events.emit('events', events)
  }

  private startPolling(): void {
    if (this.poller) return
    this.pollReachable = null
    this.poller = startSnapshotPoller({
      url: this.options.url,
      token: this.options.token,
      fetch: this.options.fetch,
      intervalMs: this.tuning.pollIntervalMs,
      onSnapshot: (snapshot) => {
        this.lastPollAt = Date.now()
        this.inbox.plain(() => this.applySnapshot(snapshot))
        // The server answers again: try the socket now rather than at the end
        // of a delay of up to 30 s. Once per recovery, so a proxy that passes
        // REST but not Socket.IO does not cause a storm of attempts.
        if (this.pollReachable !== true) this.connection.reconnectNow('the server answers GET /api/snapshot')
        this.pollReachable = true
        this.changed()
      },
      onError: (message, status) => {
        this.log('warn', message)
        if (status === null || status >= 500) this.pollReachable = false
      },
    })
  }

  private stopPolling(): void {
    this.poller?.stop()
    this.poller = null
  }

  private changed(): void {
    this.events.emit('change', this.status)
  }
}
