/**
 * Engine.IO sessions before they join a namespace. Nothing is served on the
 * default namespace `/` (clients belong on `/dashboard` or `/agents`), so it
 * refuses everyone; a session that joins no namespace is closed after
 * `namespaceJoinMs`; and the sessions still
 * waiting to join are capped, in all and per address, so raw sessions cannot
 * pile up in the meantime.
 */
import type { IncomingMessage } from 'node:http'
import type { Server } from 'socket.io'
import { AGENTS_NAMESPACE, DASHBOARD_NAMESPACE } from '../../../shared/protocol'
import type { Logger } from '../logger'
import { clientAddress, isLocalClient } from './auth'
import type { Limits } from './limits'

export const DEFAULT_NAMESPACE_REFUSAL = `the default namespace / is not served: connect to ${DASHBOARD_NAMESPACE} (viewers and operators) or ${AGENTS_NAMESPACE} (agents)`

/** The handshakes admitted whose session has not joined a namespace yet, and whom each is counted against. */
export class PendingSessions {
  /** Keyed by the handshake request, which Engine.IO keeps as its session's `request`. */
  private readonly pending = new Map<IncomingMessage, string | null>()
  private readonly perAddress = new Map<string, number>()

  constructor(
    private readonly limits: Pick<Limits, 'sessionsWithoutNamespace' | 'sessionsWithoutNamespacePerAddress'>,
  ) {}

  get size(): number {
    return this.pending.size
  }

  /** Counts a new handshake in, or says why it is refused. */
  admit(req: IncomingMessage): string | null {
    if (this.pending.has(req)) return null
    if (this.pending.size >= this.limits.sessionsWithoutNamespace) {
      return `too many connections that have not joined a namespace (${this.limits.sessionsWithoutNamespace}); retry shortly`
    }
    // This machine's own clients (the window, scripts, the benchmarks) are not one address among others.
    const address = isLocalClient(req.socket.remoteAddress, req.headers)
      ? null
      : clientAddress(req.socket.remoteAddress, req.headers)
    if (address !== null) {
      const count = this.perAddress.get(address) ?? 0
      if (count >= this.limits.sessionsWithoutNamespacePerAddress) {
        return `too many connections from this address that have not joined a namespace (${this.limits.sessionsWithoutNamespacePerAddress}); retry shortly`
      }
      this.perAddress.set(address, count + 1)
    }
    this.pending.set(req, address)
    // A WebSocket handshake that ws refuses after this (a bad key) tells Engine.IO nothing: its socket's end does.
    if (req.headers.upgrade !== undefined) req.socket.once('close', () => this.settle(req))
    return null
  }

  has(req: IncomingMessage): boolean {
    return this.pending.has(req)
  }

  /** The session joined a namespace, closed, or its handshake failed. */
  settle(req: IncomingMessage): void {
    if (!this.pending.has(req)) return
    const address = this.pending.get(req)!
    this.pending.delete(req)
    if (address === null) return
    const count = (this.perAddress.get(address) ?? 1) - 1
    if (count > 0) this.perAddress.set(address, count)
    else this.perAddress.delete(address)
  }
}

interface EngineSession {
  request: IncomingMessage
  once(event: 'close', listener: () => void): void
  close(discard?: boolean): void
}

/**
 * Refuses the default namespace and keeps `PendingSessions` current. Call it
 * before the served namespaces are created (it hears of them as they are),
 * and `watchSessions` once the server is attached to its HTTP server.
 * `allowRequest` calls `sessions.admit(req)` for each handshake.
 */
export function guardSessions(io: Server, limits: Limits, logger: Logger): PendingSessions {
  const sessions = new PendingSessions(limits)
  io.of('/').use((socket, next) => {
    logger.warn({ address: socket.handshake.address, namespace: '/' }, 'connection refused')
    next(new Error(DEFAULT_NAMESPACE_REFUSAL))
  })
  io.on('new_namespace', (namespace) => {
    namespace.on('connection', (socket) => sessions.settle(socket.conn.request))
  })
  return sessions
}

/** Closes the sessions that join no namespace in time, and settles each one that ends. Needs `io.engine`. */
export function watchSessions(io: Server, sessions: PendingSessions, limits: Pick<Limits, 'namespaceJoinMs'>): void {
  io.engine.on('connection', (session: EngineSession) => {
    // Socket.IO's own `connectTimeout` would close such a session too, but a long-polling one then lingers
    // until the client polls again, up to 30 s (Engine.IO's polling close timeout), and a second close
    // cannot hurry it; so this one comes first (`socket-server.ts` sets `connectTimeout` later) and discards
    // the session, which frees it at once.
    const timer = setTimeout(() => {
      if (sessions.has(session.request)) session.close(true)
    }, limits.namespaceJoinMs)
    session.once('close', () => {
      clearTimeout(timer)
      sessions.settle(session.request)
    })
  })
  // Admitted, then failed before a session existed (an old protocol, a broken upgrade).
  io.engine.on('connection_error', (error: { req: IncomingMessage }) => sessions.settle(error.req))
}
