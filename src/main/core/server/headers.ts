/**
 * The security headers every response carries, from one source: helmet, run
 * once at start against a recorder, so the set is computed in one place and
 * the same whether Fastify, Engine.IO or Node itself writes the answer.
 */
import type { ServerResponse } from 'node:http'
import helmet from 'helmet'

/**
 * The renderer needs nothing inline and nothing remote; it talks back to its
 * own origin over HTTP and WebSocket.
 */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'", 'ws:', 'wss:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
}

export type HeaderSet = ReadonlyArray<readonly [name: string, value: string]>

/** The headers, in helmet's order; HSTS only over TLS (browsers ignore it over plain HTTP, and it would pin them to an HTTPS that is not there). */
export function securityHeaders(secure: boolean): HeaderSet {
  const headers: [string, string][] = []
  const recorder = {
    setHeader: (name: string, value: string) => void headers.push([name, String(value)]),
    removeHeader: () => {},
  }
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: secure ? { maxAge: 180 * 24 * 3600 } : false,
  })
  let failed: unknown = null
  // Synchronous for static directives; the recorder stands in for the response it would write to.
  middleware({} as never, recorder as never, (error?: unknown) => void (failed = error ?? null))
  if (failed !== null || headers.length === 0) throw new Error(`helmet produced no security headers: ${String(failed)}`)
  return Object.freeze(headers.map((pair) => Object.freeze(pair)))
}

export function applyHeaders(res: Pick<ServerResponse, 'setHeader'>, headers: HeaderSet): void {
  for (const [name, value] of headers) res.setHeader(name, value)
}

/** `Name: value\r\n` lines, for the answers written straight to a socket. */
export function headerLines(headers: HeaderSet): string {
  return headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')
}

/**
 * Inserts the header lines after the status line of a raw HTTP response head
 * (`HTTP/1.1 400 Bad Request\r\n…`); anything else is returned unchanged.
 */
export function withHeaderLines(chunk: string, headers: HeaderSet): string {
  if (!chunk.startsWith('HTTP/1.')) return chunk
  const end = chunk.indexOf('\r\n')
  if (end < 0) return chunk
  return chunk.slice(0, end + 2) + headerLines(headers) + chunk.slice(end + 2)
}
