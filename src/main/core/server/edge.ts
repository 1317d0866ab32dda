/**
 * The raw Node server under Fastify and Engine.IO: its timeouts, and the
 * security headers on the answers neither of them writes through a route —
 * Engine.IO's polling responses, WebSocket upgrades and their refusals,
 * Node's own `400`/`408`/`431`/`417`. Fastify's answers get them here too,
 * before its hooks run, so an early refusal (the Origin check) has them.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { applyHeaders, headerLines, withHeaderLines, type HeaderSet } from './headers'
import type { Limits } from './limits'

/**
 * How often Node looks for requests over their headers or request timeout
 * (its default is 30 s, which would let a slow client overstay by that much).
 */
export const TIMEOUT_CHECK_MS = 1000

/** Node's own server options for the timeouts (Fastify passes them to `http(s).createServer`). */
export function nodeServerOptions(limits: Limits): { headersTimeout: number; connectionsCheckingInterval: number } {
  return { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_MS }
}

/** The same over TLS, and the TLS handshake, which comes before the headers, bounded like them. */
export function tlsServerOptions(limits: Limits): ReturnType<typeof nodeServerOptions> & { handshakeTimeout: number } {
  return { ...nodeServerOptions(limits), handshakeTimeout: limits.headersTimeoutMs }
}

/** Fastify's names for the rest of them. */
export function fastifyTimeouts(limits: Limits): {
  requestTimeout: number
  keepAliveTimeout: number
  connectionTimeout: number
} {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveMs,
    connectionTimeout: limits.idleSocketMs,
  }
}

const CLIENT_ERRORS: Record<string, { status: string; message: (limits: Limits) => string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: '408 Request Timeout',
    message: (limits) =>
      `the request did not arrive in time: headers within ${limits.headersTimeoutMs / 1000} s, ` +
      `the whole request within ${limits.requestTimeoutMs / 1000} s`,
  },
  HPE_HEADER_OVERFLOW: {
    status: '431 Request Header Fields Too Large',
    message: () => 'the request headers are too large',
  },
}

/**
 * The request each socket is on and its response: a request answered early
 * (a `401` before its body has arrived) that then runs out of time must not
 * get a second answer, the `408`, after the first.
 */
const exchanges = new WeakMap<object, { req: IncomingMessage; res: ServerResponse }>()

/**
 * What a client gets when Node cannot parse its request or it took too long
 * (Fastify's `clientErrorHandler`): our error shape, with the security headers.
 */
export function clientErrorHandler(
  headers: HeaderSet,
  limits: Limits,
): (error: NodeJS.ErrnoException, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return
    const known = CLIENT_ERRORS[error.code ?? '']
    const status = known?.status ?? '400 Bad Request'
    const body = JSON.stringify({
      error: { code: 'bad_request', message: known ? known.message(limits) : 'malformed HTTP request' },
    })
    const exchange = exchanges.get(socket)
    const answered = exchange !== undefined && !exchange.req.complete && exchange.res.headersSent
    if (socket.writable && !answered) {
      socket.write(
        `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n${headerLines(headers)}\r\n${body}`,
      )
    }
    socket.destroy()
  }
}

/**
 * Adds the security headers to every answer the server writes. Call it after
 * Socket.IO is attached: Engine.IO's `attach()` takes the `request` listeners
 * there are and calls them only for paths outside `/socket.io/`, so ours must
 * come first, in front of Engine.IO's own.
 */
export function addSecurityHeaders(server: HttpServer, headers: HeaderSet): void {
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    exchanges.set(req.socket, { req, res })
    applyHeaders(res, headers)
  })

  // Engine.IO and ws write an upgrade's answer (`101`, or a refusal such as
  // `400 Bad Request` for a refused handshake) straight to the socket, as one
  // string: the first string written gets the headers after its status line.
  server.prependListener('upgrade', (_req: IncomingMessage, socket: Socket) => {
    const write = socket.write
    const end = socket.end
    const restore = () => {
      socket.write = write
      socket.end = end
    }
    const first = (chunk: unknown) => (typeof chunk === 'string' ? withHeaderLines(chunk, headers) : chunk)
    socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      restore()
      return Reflect.apply(write, this, [first(chunk), ...rest]) as boolean
    } as Socket['write']
    socket.end = function (this: Socket, ...args: unknown[]) {
      restore()
      return Reflect.apply(end, this, args.length > 0 ? [first(args[0]), ...args.slice(1)] : []) as Socket
    } as Socket['end']
  })

  // `Expect:` with anything but `100-continue`: Node would answer `417` itself, bare.
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    applyHeaders(res, headers)
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', connection: 'close' })
    res.end(JSON.stringify({ error: { code: 'bad_request', message: 'only "Expect: 100-continue" is supported' } }))
  })
}
