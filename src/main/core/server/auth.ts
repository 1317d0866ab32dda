/**
 * Who may connect: the token decides the role, the Origin header decides
 * whether a browser page may talk to us at all.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Role } from '../../../shared/domain'
import type { AccessTokens, Identity } from '../auth/access'

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  return match ? match[1]! : null
}

export type Admission =
  | { ok: true; identity: Identity }
  /** `identity`: whose token it was, when it was a known one of the wrong role. */
  | { ok: false; code: 'unauthorized' | 'forbidden'; reason: string; identity: Identity | null }

/** Checks a presented token against the roles a door lets in. */
export function admit(tokens: AccessTokens, presented: unknown, allowed: readonly Role[]): Admission {
  if (presented === undefined || presented === null || presented === '') {
    return { ok: false, code: 'unauthorized', reason: 'no token', identity: null }
  }
  const identity = tokens.identify(presented)
  if (identity === null) return { ok: false, code: 'unauthorized', reason: 'invalid token', identity: null }
  if (!allowed.includes(identity.role)) {
    const article = /^[aeiou]/.test(identity.role) ? 'an' : 'a'
    return { ok: false, code: 'forbidden', reason: `${article} ${identity.role} token cannot be used here`, identity }
  }
  return { ok: true, identity }
}

/**
 * Requests without an Origin (agents, scripts, curl) pass; a browser's Origin
 * must be the server's own (same host the browser addressed) or listed.
 */
export function originAllowed(
  req: Pick<IncomingMessage, 'headers'>,
  allowlist: readonly string[],
  secure: boolean,
): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  const own = req.headers.host ? `${secure ? 'https' : 'http'}://${req.headers.host}` : null
  return origin === own || allowlist.includes(origin)
}

export function isLoopback(address: string | undefined): boolean {
  return address === '::1' || !!address?.startsWith('127.') || !!address?.startsWith('::ffff:127.')
}

/** Headers a reverse proxy adds; a request that carries one came from wherever the proxy heard it. */
const FORWARDED_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const

/**
 * Whether a client is on this machine: it connects over loopback and no
 * proxy speaks for it. A proxy on this machine connects over loopback too,
 * for clients anywhere; the headers it adds make them remote again. (A local
 * client that sends such a header only makes itself remote.)
 */
export function isLocalClient(address: string | undefined, headers: IncomingHttpHeaders): boolean {
  return isLoopback(address) && FORWARDED_HEADERS.every((name) => headers[name] === undefined)
}

/**
 * The address a request stands for: the peer's, or, when the peer is a proxy
 * on this machine, the last address it appended to `X-Forwarded-For` (the one
 * it heard the request from; earlier entries are the client's own claims).
 */
export function clientAddress(address: string | undefined, headers: IncomingHttpHeaders): string {
  const forwarded = headers['x-forwarded-for']
  if (isLoopback(address) && typeof forwarded === 'string') {
    const last = forwarded.split(',').at(-1)?.trim()
    if (last) return last.slice(0, 64)
  }
  return address ?? 'unknown'
}
