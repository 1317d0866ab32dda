/**
 * Who may connect: the token decides the role, the Origin header decides
 * whether a browser page may talk to us at all.
 */
import type { IncomingMessage } from 'node:http'
import type { Role } from '../../../shared/domain'
import { roleOf, type Tokens } from '../auth/tokens'

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  return match ? match[1]! : null
}

export type Admission = { ok: true; role: Role } | { ok: false; code: 'unauthorized' | 'forbidden'; reason: string }

/** Checks a presented token against the roles a door lets in. */
export function admit(tokens: Tokens, presented: unknown, allowed: readonly Role[]): Admission {
  if (presented === undefined || presented === null || presented === '') {
    return { ok: false, code: 'unauthorized', reason: 'no token' }
  }
  const role = roleOf(tokens, presented)
  if (role === null) return { ok: false, code: 'unauthorized', reason: 'invalid token' }
  if (!allowed.includes(role)) return { ok: false, code: 'forbidden', reason: `a ${role} token cannot be used here` }
  return { ok: true, role }
}

/**
 * Requests without an Origin (agents, scripts, curl) pass; a browser's Origin
 * must be the server's own (same host the browser addressed) or listed.
 */
export function originAllowed(req: IncomingMessage, allowlist: readonly string[], secure: boolean): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  const own = req.headers.host ? `${secure ? 'https' : 'http'}://${req.headers.host}` : null
  return origin === own || allowlist.includes(origin)
}
