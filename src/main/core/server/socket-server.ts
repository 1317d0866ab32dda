/**
 * The Socket.IO server: its options, who may start a session (not while
 * stopping, browsers only from allowed origins, not past the cap on sessions
 * without a namespace), and the byte count for metrics. It is made before
 * the HTTP server, so that the pipeline can be given the `/dashboard`
 * namespace, and attached to the HTTP server once that exists. The
 * namespaces themselves are registered by `core.ts`.
 */
import type { Server as HttpServer } from 'node:http'
import { Server } from 'socket.io'
import type { Logger } from '../logger'
import { originAllowed } from './auth'
import type { Limits } from './limits'
import { guardSessions, watchSessions, type PendingSessions } from './sessions'

export interface SocketServerDeps {
  limits: Limits
  logger: Logger
  allowOrigin: readonly string[]
  secure: boolean
  wsCompression: boolean
  /** True once stopping began: no new session then. */
  stopping: () => boolean
  /** Told of each handshake refused by the cap on sessions without a namespace. */
  sessionRefused?: () => void
  /** Told of the bytes of each packet sent. */
  bytesSent?: (bytes: number) => void
}

export interface SocketServer {
  io: Server
  sessions: PendingSessions
  /** Serves Socket.IO on `httpServer` (once; its request handler then comes before the HTTP server's). */
  attach(httpServer: HttpServer): void
}

export function createSocketServer(deps: SocketServerDeps): SocketServer {
  const { limits, logger } = deps
  let sessions: PendingSessions | null = null
  let full = false
  const io = new Server({
    serveClient: false,
    // A bigger message closes its connection: engine.io cannot refuse one message and keep the link.
    maxHttpBufferSize: limits.messageBytes,
    // Off by default: deflate costs CPU per viewer (see docs/performance.md); --ws-compression turns it on.
    perMessageDeflate: deps.wsCompression ? { threshold: 1024 } : false,
    cors: { origin: [...deps.allowOrigin], credentials: false },
    // A backstop: sessions.ts closes a session that joined no namespace at `namespaceJoinMs`, more thoroughly.
    connectTimeout: limits.namespaceJoinMs + 1000,
    // Called for each new session's handshake only (a request with a `sid` belongs to one already admitted).
    allowRequest: (req, callback) => {
      // While stopping: a browser's keep-alive connection would otherwise bring a new session in after close().
      if (deps.stopping()) return callback('server shutting down', false)
      if (!originAllowed(req, deps.allowOrigin, deps.secure)) {
        logger.warn({ origin: req.headers.origin, address: req.socket.remoteAddress }, 'origin refused')
        return callback('origin not allowed', false)
      }
      const refusal = sessions!.admit(req)
      if (refusal !== null) {
        deps.sessionRefused?.()
        // Once per spell of refusals, not once per handshake of a flood.
        if (!full) logger.warn({ address: req.socket.remoteAddress, pending: sessions!.size }, refusal)
        full = true
        return callback(refusal, false)
      }
      full = false
      callback(null, true)
    },
  })
  sessions = guardSessions(io, limits, logger)
  const guarded = sessions
  return {
    io,
    sessions,
    attach(httpServer) {
      io.attach(httpServer)
      watchSessions(io, guarded, limits)
      const { bytesSent } = deps
      if (!bytesSent) return
      // One listener for every connection: a closure each would be kept as long as the connection.
      const counted = (packet: { data?: unknown }) => {
        if (typeof packet.data === 'string') bytesSent(packet.data.length)
        else if (packet.data instanceof Buffer) bytesSent(packet.data.length)
      }
      io.engine.on(
        'connection',
        (connection: { on(event: 'packetCreate', listener: (packet: { data?: unknown }) => void): void }) => {
          connection.on('packetCreate', counted)
        },
      )
    },
  }
}
