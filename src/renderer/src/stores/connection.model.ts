/**
 * Types and the test hook of the dashboard connection, apart from the store
 * so they can be read (and tested) without a socket. The state machine,
 * backoff, heartbeat and command queue themselves live in src/shared/client.
 */
import type { DashboardTuning } from '../../../shared/client/dashboard-client'

export type { ConnectionError, ConnectionState, Transition, Transport } from '../../../shared/client/states'
export type { LinkQuality } from '../../../shared/client/heartbeat'
export type { CommandData, CommandName, CommandRequest, DashboardSocket } from '../../../shared/client/dashboard-client'

/** Why the user must (re)enter a token, if they must. */
export type TokenProblem = 'missing' | 'refused' | null

/**
 * Test hook: shorter delays from the URL fragment, so browser tests need not
 * wait 30 s for a backoff or 14 s for a heartbeat verdict. Read only here, in
 * the renderer; documented in src/shared/client/README.md.
 *
 *   #token=…&retry=200-2000    backoff from 200 ms, capped at 2000 ms
 *   &heartbeat=1000            ping every 1000 ms, each answered within it
 *   &connectTimeout=3000       an attempt fails after 3000 ms
 *   &stable=2000               a connection that lasted 2000 ms resets the backoff
 */
export function tuningFromHash(hash: string): Partial<DashboardTuning> {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const tuning: Partial<DashboardTuning> = {}
  const retry = /^(\d+)-(\d+)$/.exec(params.get('retry') ?? '')
  if (retry) tuning.backoff = { minMs: Number(retry[1]), maxMs: Number(retry[2]) }
  const heartbeat = positive(params.get('heartbeat'))
  if (heartbeat !== null) tuning.heartbeat = { intervalMs: heartbeat, timeoutMs: heartbeat }
  const connectTimeout = positive(params.get('connectTimeout'))
  if (connectTimeout !== null) tuning.connectTimeoutMs = connectTimeout
  const stable = positive(params.get('stable'))
  if (stable !== null) tuning.stableAfterMs = stable
  return tuning
}

function positive(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null
  const n = Number(value)
  return n > 0 ? n : null
}

/** Middleware refusals that mean "this token will never do". */
export function isTokenRefusal(message: string): boolean {
  return /\b(unauthorized|forbidden)\b/.test(message)
}
