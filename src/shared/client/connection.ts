/**
 * The resilient connection: one Socket.IO socket kept alive through a state
 * machine (`states.ts`), with exponential backoff, an application heartbeat
 * and, for viewers, the REST fallback state. Used by the dashboard client
 * and by the agent SDK. DOM-free and Node-free: the socket comes in, built by
 * the caller with socket.io-client.
 *
 * Socket.IO's Manager still opens the link and chooses the transport
 * (long-polling first, upgraded to WebSocket when it can be); the retry loop
 * is this class's own, with `reconnection` turned off on the Manager. Why:
 * the Manager resets its backoff the moment any connection opens (a link
 * that flaps every second would be retried every second forever, where the
 * spec resets only after a stable connection), it does not retry after a
 * server-side close or a middleware refusal, a link the heartbeat declared
 * dead must be closed and retried by the same loop, and it never says what
 * delay it drew, so a countdown would be a guess. Here every retry — lost
 * link, failed attempt, dead heartbeat, server close — goes through
 * `scheduleRetry`, the one place that waits.
 */
import { Backoff } from './backoff'
import {
  FatalConnectionError,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionStatus,
  type LinkSocket,
} from './connection.types'
import { Emitter } from './emitter'
import { Heartbeat, classifyQuality, heartbeatSettings } from './heartbeat'
import {
  canTransition,
  TRANSITION_LOG_LEVEL,
  type ClientLog,
  type ConnectionError,
  type ConnectionState,
  type SocketTransport,
  type Transition,
} from './states'

export { FatalConnectionError }
export type {
  ConnectionEvents,
  ConnectionOptions,
  ConnectionStatus,
  LinkEngine,
  LinkManager,
  LinkSocket,
} from './connection.types'

type Phase = 'idle' | 'opening' | 'handshaking' | 'open' | 'waiting'

const DEFAULT_FATAL = (error: Error) => error.message === 'unauthorized' || error.message === 'forbidden'

export class ResilientConnection {
  readonly socket: LinkSocket
  private readonly events: Emitter<ConnectionEvents>
  private readonly backoff: Backoff
  private readonly stableAfterMs: number
  private readonly connectTimeoutMs: number
  private readonly log: ClientLog
  private phase: Phase = 'idle'
  private state: ConnectionState = 'disconnected'
  private socketTransport: SocketTransport = 'polling'
  private attempt = 0
  private failures = 0
  private nextRetryAt: number | null = null
  private retryDelayMs: number | null = null
  private rttMs: number | null = null
  private averageRttMs: number | null = null
  private missed = 0
  private clockOffsetMs: number | null = null
  private lastError: ConnectionError | null = null
  private history: Transition[] = []
  private connectedAt: number | null = null
  private heartbeat: Heartbeat | null = null
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private attemptTimer: ReturnType<typeof setTimeout> | undefined
  /** Set while we close the socket ourselves, so its `disconnect` is not taken for a lost link. */
  private closingOnPurpose = false
  /** Counts attempts, so a late handshake answer for an abandoned one is ignored. */
  private serial = 0
  private readonly watchedEngines = new WeakSet<object>()

  constructor(private readonly options: ConnectionOptions) {
    this.socket = options.socket
    this.backoff = new Backoff(options.backoff)
    this.stableAfterMs = options.stableAfterMs ?? 10_000
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    this.log = options.log ?? (() => {})
    this.events = new Emitter((error) => this.log('error', `a connection listener failed: ${String(error)}`))
    this.socket.io.reconnection(false)
    this.socket.io.timeout(this.connectTimeoutMs)
    this.socket.on('connect', this.onConnect)
    this.socket.on('disconnect', this.onDisconnect)
    this.socket.on('connect_error', this.onConnectError)
  }

  on<K extends keyof ConnectionEvents>(event: K, listener: (value: ConnectionEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  get status(): ConnectionStatus {
    return {
      state: this.state,
      transport: this.state === 'polling' ? 'rest' : this.socketTransport,
      attempt: this.attempt,
      failures: this.failures,
      nextRetryAt: this.nextRetryAt,
      retryDelayMs: this.retryDelayMs,
      rttMs: this.rttMs,
      averageRttMs: this.averageRttMs,
      quality: this.phase === 'open' ? classifyQuality(this.averageRttMs, this.missed) : 'unknown',
      missedHeartbeats: this.missed,
      clockOffsetMs: this.clockOffsetMs,
      lastError: this.lastError,
      history: this.history,
      connectedAt: this.connectedAt,
    }
  }

  /** Whether the link is up and handshaken: what may be sent now. */
  get isOpen(): boolean {
    return this.phase === 'open' && this.socket.connected
  }

  /** Connects, from `disconnected` or `error`; the backoff starts over. */
  start(reason = 'connect requested'): void {
    if (this.phase !== 'idle') return
    this.backoff.reset()
    this.attempt = 0
    this.failures = 0
    this.setState('connecting', reason)
    this.openAttempt()
  }

  /** Closes on purpose and stops retrying. */
  stop(reason = 'closed by the user'): void {
    this.halt()
    this.setState('disconnected', reason)
  }

  /** Stops for good with a message (a refusal retrying cannot fix). */
  fail(message: string): void {
    this.recordError(message)
    this.halt()
    this.setState('error', message)
  }

  /** While waiting for a retry: make it now (the server answers again, or the user asked). */
  reconnectNow(reason: string): void {
    if (this.phase !== 'waiting') return
    clearTimeout(this.retryTimer)
    this.log('info', `retrying now: ${reason}`)
    this.openAttempt()
  }

  /** Closes the link (or the attempt in flight) and retries with backoff, e.g. after a dead heartbeat. */
  restart(reason: string): void {
    if (this.phase === 'open') {
      this.closeSocket()
      this.linkLost(reason)
    } else if (this.phase === 'opening' || this.phase === 'handshaking') {
      this.attemptFailed(reason, true)
    }
  }

  dispose(): void {
    this.halt()
    this.socket.off('connect', this.onConnect)
    this.socket.off('disconnect', this.onDisconnect)
    this.socket.off('connect_error', this.onConnectError)
    this.events.clear()
  }

  // ── socket events ────────────────────────────────────────────────────────

  private readonly onConnect = (): void => {
    if (this.phase !== 'opening') {
      // Connected while we were not trying (stopped meanwhile): close it again.
      if (this.phase === 'idle') this.closeSocket()
      return
    }
    const handshake = this.options.handshake
    if (!handshake) return this.opened()
    this.phase = 'handshaking'
    const serial = this.serial
    handshake().then(
      () => {
        if (serial === this.serial && this.phase === 'handshaking') this.opened()
      },
      (error: unknown) => {
        if (serial !== this.serial || this.phase !== 'handshaking') return
        const message = error instanceof Error ? error.message : String(error)
        if (error instanceof FatalConnectionError) this.fail(message)
        else this.attemptFailed(message, true)
      },
    )
  }

  private readonly onConnectError = (error: Error): void => {
    if (this.phase !== 'opening') return
    if ((this.options.isFatal ?? DEFAULT_FATAL)(error)) {
      this.fail(`refused by the server: ${error.message}`)
      return
    }
    // A middleware's refusal may explain itself in `error.data.message` (too_many_viewers names the cap).
    const explained = (error as Error & { data?: { message?: unknown } }).data?.message
    this.attemptFailed(
      typeof explained === 'string' ? `${error.message}: ${explained.slice(0, 300)}` : error.message,
      false,
    )
  }

  private readonly onDisconnect = (reason: string): void => {
    if (this.closingOnPurpose) return
    this.dropSendBuffer()
    if (this.phase === 'open') this.linkLost(`connection lost: ${reason}`)
    else if (this.phase === 'handshaking') this.attemptFailed(`connection lost: ${reason}`, false)
  }

  // ── the loop ─────────────────────────────────────────────────────────────

  private openAttempt(): void {
    this.phase = 'opening'
    this.serial++
    this.nextRetryAt = null
    clearTimeout(this.attemptTimer)
    this.attemptTimer = setTimeout(
      () => this.attemptFailed(`no connection within ${this.connectTimeoutMs / 1000} s`, true),
      this.connectTimeoutMs,
    )
    this.changed()
    this.socket.connect()
  }

  private opened(): void {
    clearTimeout(this.attemptTimer)
    this.phase = 'open'
    this.connectedAt = Date.now()
    const after = this.attempt > 0 ? ` (attempt ${this.attempt})` : ''
    this.attempt = 0
    this.failures = 0
    this.nextRetryAt = null
    this.retryDelayMs = null
    this.missed = 0
    this.watchTransport()
    this.setState('connected', `connected over ${this.socketTransport}${after}`)
    this.startHeartbeat()
    this.events.emit('open', undefined)
  }

  /** An established link is gone: wait, then attempt 1. */
  private linkLost(reason: string): void {
    this.stopHeartbeat()
    this.recordError(reason)
    // Only a connection that lasted resets the backoff: a flapping link keeps backing off.
    if (this.connectedAt !== null && Date.now() - this.connectedAt >= this.stableAfterMs) this.backoff.reset()
    this.connectedAt = null
    this.rttMs = null
    this.averageRttMs = null
    this.attempt = 1
    this.failures = 0
    this.events.emit('close', reason)
    this.scheduleRetry()
    this.setState('reconnecting', reason)
  }

  private attemptFailed(reason: string, closeSocket: boolean): void {
    if (this.phase !== 'opening' && this.phase !== 'handshaking') return
    clearTimeout(this.attemptTimer)
    if (closeSocket) this.closeSocket()
    if (this.state === 'connecting') {
      this.recordError(`cannot connect: ${reason}`)
      this.attempt = 1
      this.scheduleRetry()
      this.setState('reconnecting', `cannot connect: ${reason}`)
      return
    }
    this.recordError(`attempt ${this.attempt} failed: ${reason}`)
    this.failures++
    this.attempt++
    this.scheduleRetry()
    const threshold = this.options.pollAfterFailures ?? null
    if (threshold !== null && this.failures >= threshold && this.state === 'reconnecting') {
      this.setState('polling', `no connection after ${this.failures} attempts: polling the REST API`)
    } else {
      this.changed()
    }
  }

  /**
   * The one place that waits before trying again. It only sets the plan;
   * the caller then reports it (a transition or a change), so that nobody
   * ever sees a new attempt number with the previous attempt's delay.
   */
  private scheduleRetry(): void {
    this.phase = 'waiting'
    const delay = this.backoff.next()
    this.retryDelayMs = delay
    this.nextRetryAt = Date.now() + delay
    this.log('info', `attempt ${this.attempt} in ${delay} ms`)
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => this.openAttempt(), delay)
  }

  /** Stops everything: timers, heartbeat, socket. The caller sets the final state. */
  private halt(): void {
    const wasOpen = this.phase === 'open'
    this.phase = 'idle'
    this.serial++
    clearTimeout(this.retryTimer)
    clearTimeout(this.attemptTimer)
    this.stopHeartbeat()
    this.closeSocket()
    this.attempt = 0
    this.nextRetryAt = null
    this.retryDelayMs = null
    this.connectedAt = null
    this.rttMs = null
    this.averageRttMs = null
    if (wasOpen) this.events.emit('close', 'closed')
  }

  private closeSocket(): void {
    this.closingOnPurpose = true
    try {
      this.socket.disconnect()
    } finally {
      this.closingOnPurpose = false
    }
    this.dropSendBuffer()
  }

  /**
   * socket.io-client keeps what was emitted while disconnected and sends it
   * on reconnect. Nothing may be replayed behind the caller's back (the
   * command queue decides what is sent after a reconnect), so drop it.
   */
  private dropSendBuffer(): void {
    if (this.socket.sendBuffer) this.socket.sendBuffer.length = 0
  }

  // ── heartbeat and transport ──────────────────────────────────────────────

  private startHeartbeat(): void {
    const options = this.options.heartbeat
    if (!options) return
    this.stopHeartbeat()
    this.heartbeat = new Heartbeat(options, {
      ping: (timeoutMs) => options.ping(timeoutMs),
      onBeat: () => this.events.emit('beat', undefined),
      onSample: (sample) => {
        this.rttMs = Math.round(sample.rttMs)
        this.averageRttMs = Math.round(sample.averageRttMs)
        this.missed = 0
        if (sample.clockOffsetMs !== null) this.clockOffsetMs = Math.round(sample.clockOffsetMs)
        this.changed()
      },
      onMiss: (missed) => {
        this.missed = missed
        this.recordError(`heartbeat: ping ${missed} unanswered within ${heartbeatSettings(options).timeoutMs} ms`)
        this.changed()
      },
      onDead: (missed) => {
        this.missed = missed
        this.restart(`heartbeat: ${missed} pings in a row unanswered; the link is dead though not closed`)
      },
    })
  }

  private stopHeartbeat(): void {
    this.heartbeat?.stop()
    this.heartbeat = null
    this.missed = 0
  }

  private watchTransport(): void {
    const engine = this.socket.io.engine
    if (!engine) return
    this.socketTransport = engine.transport.name === 'websocket' ? 'websocket' : 'polling'
    if (this.watchedEngines.has(engine)) return
    this.watchedEngines.add(engine)
    engine.on('upgrade', (transport) => {
      if (this.socket.io.engine !== engine) return
      this.socketTransport = transport.name === 'websocket' ? 'websocket' : 'polling'
      this.log('info', `transport upgraded to ${this.socketTransport}`)
      this.changed()
    })
  }

  // ── bookkeeping ──────────────────────────────────────────────────────────

  private setState(next: ConnectionState, reason: string): void {
    const from = this.state
    if (from === next) return this.changed()
    if (!canTransition(from, next)) this.log('warn', `unexpected transition ${from} → ${next} (${reason})`)
    this.state = next
    const transition: Transition = { at: Date.now(), from, to: next, reason }
    const limit = this.options.historyLimit ?? 50
    this.history = [...this.history.slice(-(limit - 1)), transition]
    this.log(TRANSITION_LOG_LEVEL[next], `${from} → ${next}: ${reason}`)
    this.events.emit('state', transition)
    this.changed()
  }

  private recordError(message: string): void {
    this.lastError = { at: Date.now(), message }
  }

  private changed(): void {
    this.events.emit('change', this.status)
  }
}
