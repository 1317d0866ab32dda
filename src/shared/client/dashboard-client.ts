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
  Welcome,
} from '../protocol'
import type { Result } from '../result'
import type { BackoffOptions } from './backoff'
import { CommandQueue, type CommandQueueOptions } from './command-queue'
import { ResilientConnection, type ConnectionStatus } from './connection'
import { Emitter } from './emitter'
import type { HeartbeatOptions } from './heartbeat'
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
  private lastPollAt: number | null = null

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
    const socket = options.createSocket(`${options.url}/dashboard`, {
      ...options.socketOptions,
      autoConnect: false,
      reconnection: false,
      forceNew: true,
      // Asked again on every (re)connect: resume after the last seq handed out, on the same server process.
      auth: (callback) => callback(this.auth()),
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

    socket.on('welcome', (welcome) => {
      this.role = welcome.role
      this.serverVersion = welcome.version
      this.routing = welcome.routing
      this.instance = welcome.instance
      this.resumed = welcome.resumed
      this.events.emit('welcome', welcome)
      this.changed()
    })
    socket.on('snapshot', (snapshot) => {
      this.seq = snapshot.seq
      this.events.emit('snapshot', snapshot)
      this.changed()
    })
    socket.on('events', (events) => {
      const last = events.at(-1)
      if (last && (this.seq === null || last.seq > this.seq)) this.seq = last.seq
      this.events.emit('events', events)
    })

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
    this.socket.off('welcome').off('snapshot').off('events')
    this.events.clear()
  }

  private auth(): DashboardAuth {
    const { token } = this.options
    return this.seq !== null && this.instance !== null
      ? { token, sinceSeq: this.seq, instance: this.instance }
      : { token }
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
        this.seq = snapshot.seq
        this.events.emit('snapshot', snapshot)
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
