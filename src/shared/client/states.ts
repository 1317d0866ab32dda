/**
 * The states of a resilient connection and the transitions between them.
 * The table is the contract the indicator, the user guide and the tests
 * rely on; the client never takes a transition that is not in it.
 *
 *   disconnected ─start→ connecting ─→ connected ─lost→ reconnecting ─5 failures→ polling
 *                             │   ↑                        │   ↑                      │
 *                             │   └────────── connected ←──┘   └── connected ←────────┘
 *                             └─→ error (a refusal retrying cannot fix) ─start→ connecting
 *   any state ─stop→ disconnected
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'polling' | 'error'

export const CONNECTION_STATES: readonly ConnectionState[] = [
  'disconnected',
  'connecting',
  'connected',
  'reconnecting',
  'polling',
  'error',
]

export const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  disconnected: ['connecting'],
  connecting: ['connected', 'reconnecting', 'error', 'disconnected'],
  connected: ['reconnecting', 'error', 'disconnected'],
  reconnecting: ['connected', 'polling', 'error', 'disconnected'],
  polling: ['connected', 'error', 'disconnected'],
  error: ['connecting', 'disconnected'],
}

export function canTransition(from: ConnectionState, to: ConnectionState): boolean {
  return TRANSITIONS[from].includes(to)
}

/** Socket.IO's two transports, or the REST fallback while `polling`. */
export type SocketTransport = 'websocket' | 'polling'
export type Transport = SocketTransport | 'rest'

export interface Transition {
  /** Epoch ms. */
  at: number
  from: ConnectionState
  to: ConnectionState
  reason: string
}

export interface ConnectionError {
  at: number
  message: string
}

export type ClientLogLevel = 'debug' | 'info' | 'warn' | 'error'

/**
 * How loud each arrival is in the client's log (the browser console): opening,
 * being connected and closing on purpose are the normal course (`info`); a lost
 * link and the REST fallback are worth a look (`warn`); a refusal retrying cannot
 * fix is an `error`.
 */
export const TRANSITION_LOG_LEVEL: Readonly<Record<ConnectionState, ClientLogLevel>> = {
  disconnected: 'info',
  connecting: 'info',
  connected: 'info',
  reconnecting: 'warn',
  polling: 'warn',
  error: 'error',
}
export type ClientLog = (level: ClientLogLevel, message: string) => void
