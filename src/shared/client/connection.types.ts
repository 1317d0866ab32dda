/**
 * The types around `ResilientConnection`: what it needs of a socket, its
 * options, the status it reports and the events it emits.
 */
import type { BackoffOptions } from './backoff'
import type { HeartbeatOptions, LinkQuality } from './heartbeat'
import type { ClientLog, ConnectionError, ConnectionState, Transition, Transport } from './states'

/** What the connection needs of a socket.io-client `Socket` (a fake one in unit tests). */
export interface LinkSocket {
  readonly connected: boolean
  connect(): unknown
  disconnect(): unknown
  on(event: 'connect', listener: () => void): unknown
  on(event: 'disconnect', listener: (reason: string) => void): unknown
  on(event: 'connect_error', listener: (error: Error) => void): unknown
  off(event: 'connect', listener: () => void): unknown
  off(event: 'disconnect', listener: (reason: string) => void): unknown
  off(event: 'connect_error', listener: (error: Error) => void): unknown
  readonly io: LinkManager
  /** Packets socket.io-client holds back while disconnected and would send on reconnect. */
  readonly sendBuffer?: unknown[]
}

export interface LinkManager {
  reconnection(enabled: boolean): unknown
  timeout(ms: number): unknown
  readonly engine?: LinkEngine
}

export interface LinkEngine {
  readonly transport: { readonly name: string }
  on(event: 'upgrade', listener: (transport: { name: string }) => void): unknown
}

/** Thrown by a handshake when retrying cannot help (bad registration, refused token). */
export class FatalConnectionError extends Error {}

export interface ConnectionOptions {
  /** Built with `autoConnect: false`; the connection turns the Manager's own reconnection off. */
  socket: LinkSocket
  backoff?: BackoffOptions
  /** A connection that lasted this long resets the backoff to its first delay (default 10 000 ms). */
  stableAfterMs?: number
  /** An attempt (transport, namespace and handshake) that takes longer fails (default 10 000 ms). */
  connectTimeoutMs?: number
  /** The application heartbeat; null turns it off. */
  heartbeat?: (HeartbeatOptions & { ping(timeoutMs: number): Promise<number | null> }) | null
  /** Failed attempts after which the state becomes `polling` (the caller polls); null: never (default). */
  pollAfterFailures?: number | null
  /** Runs once the socket is connected (e.g. an agent's registration); `connected` only when it resolves. */
  handshake?: () => Promise<void>
  /** Connection errors that retrying cannot fix (default: the server's `unauthorized` and `forbidden`). */
  isFatal?: (error: Error) => boolean
  /** Transitions kept in `history` (default 50). */
  historyLimit?: number
  log?: ClientLog
}

export interface ConnectionStatus {
  state: ConnectionState
  /** What carries the data: the socket's transport, or `rest` while polling. */
  transport: Transport
  /** The attempt under way or waited for (1-based) while reconnecting or polling; 0 otherwise. */
  attempt: number
  /** Attempts failed since the link was lost (or since the first connect failed). */
  failures: number
  /** Epoch ms of the next attempt; null while connected or while an attempt is in flight. */
  nextRetryAt: number | null
  /** The (jittered) delay drawn for the next attempt. */
  retryDelayMs: number | null
  rttMs: number | null
  averageRttMs: number | null
  quality: LinkQuality
  missedHeartbeats: number
  /** Server clock minus ours, from the heartbeat. */
  clockOffsetMs: number | null
  lastError: ConnectionError | null
  /** Oldest first, bounded. */
  history: readonly Transition[]
  connectedAt: number | null
}

export interface ConnectionEvents {
  state: Transition
  change: ConnectionStatus
  /** The link is up (after the handshake). */
  open: undefined
  /** The link that was up is gone (lost, closed by us, or declared dead). */
  close: string
  /** A heartbeat ping went out. */
  beat: undefined
}
