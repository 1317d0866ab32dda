/**
 * Types, tunables and pure rules of the dashboard connection, apart from
 * the store so they can be read (and tested) without a socket.
 */
import type { Socket } from 'socket.io-client'
import type { DashboardClientToServer, DashboardServerToClient } from '../../../shared/protocol'
import type { Ack } from '../../../shared/result'

export type DashboardSocket = Socket<DashboardServerToClient, DashboardClientToServer>

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'polling' | 'error'

/** What carries the data now: Socket.IO's two transports, or the REST fallback. */
export type Transport = 'websocket' | 'polling' | 'rest'

export type LinkQuality = 'good' | 'degraded' | 'poor' | 'unknown'

/** Why the user must (re)enter a token, if they must. */
export type TokenProblem = 'missing' | 'refused' | null

export interface Transition {
  at: number
  from: ConnectionState
  to: ConnectionState
  reason: string
}

export interface ConnectionError {
  at: number
  message: string
}

export const RECONNECT = {
  delayMs: 1000,
  delayMaxMs: 30_000,
  randomizationFactor: 0.5,
  /** Failed attempts after which the data comes from `GET /api/snapshot` until the socket is back. */
  pollAfterAttempts: 5,
  pollIntervalMs: 1000,
} as const

export const HEARTBEAT = { intervalMs: 2000, timeoutMs: 5000 } as const

export const COMMAND_TIMEOUT_MS = 10_000
export const HISTORY_LIMIT = 50

/**
 * The delay before reconnection attempt `attempt` (1-based), without jitter:
 * the formula of Socket.IO's Manager (`min * 2^(attempt-1)`, capped), whose
 * own backoff object is not public. Jitter makes the real delay up to ±50 %.
 */
export function retryDelay(attempt: number): number {
  return Math.min(RECONNECT.delayMs * 2 ** Math.max(0, attempt - 1), RECONNECT.delayMaxMs)
}

export function classifyRtt(rttMs: number | null): LinkQuality {
  if (rttMs === null) return 'unknown'
  if (rttMs < 100) return 'good'
  if (rttMs < 500) return 'degraded'
  return 'poor'
}

/** Middleware refusals that mean "this token will never do". */
export function isTokenRefusal(message: string): boolean {
  return message === 'unauthorized' || message === 'forbidden'
}

export const COMMAND_NAMES = [
  'task:submit',
  'task:cancel',
  'task:retry',
  'agent:pause',
  'agent:resume',
  'alert:ack',
] as const
export type CommandName = (typeof COMMAND_NAMES)[number]

export type CommandRequest<N extends CommandName> = Parameters<DashboardClientToServer[N]>[0]

export type CommandData<N extends CommandName> = DashboardClientToServer[N] extends (
  request: never,
  ack: Ack<infer T>,
) => void
  ? T
  : never
