/**
 * Stopping the server in bounded time, whatever the clients do. Node's
 * `server.close()` waits for every connection, and `closeAllConnections()`
 * only knows the ones still speaking HTTP: an upgraded WebSocket is not among
 * them, and ws waits up to 30 s (its `closeTimeout`) for the peer's close
 * frame, which some clients (python-socketio's websocket-client) never send.
 * So every raw socket is tracked here, and what is still open after a short
 * grace is destroyed.
 */
import type { Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import type { Server as SocketServer } from 'socket.io'

/** How long clients get to go by themselves after Socket.IO told them to, before their sockets are cut. */
export const STOP_GRACE_MS = 500

export interface Connections {
  readonly size: number
  destroyAll(): void
}

/** Tracks every socket the server accepts, TLS ones both raw and after their handshake. */
export function trackConnections(server: HttpServer): Connections {
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  server.on('connection', track)
  // An https.Server hands HTTP the TLS socket, a different object over the same connection.
  server.on('secureConnection', track)
  return {
    get size() {
      return sockets.size
    },
    destroyAll() {
      for (const socket of sockets) socket.destroy()
    },
  }
}

/**
 * Closes every Engine.IO session (Socket.IO runs each namespace's disconnect
 * handlers with `server shutting down`) and stops listening, gives the
 * connections `graceMs` to end, then destroys the rest. No namespace
 * DISCONNECT is sent: clients see `transport close` and reconnect with their
 * backoff, so a restarted server gets its viewers and agents back.
 */
export async function closeServer(io: SocketServer, connections: Connections, graceMs = STOP_GRACE_MS): Promise<void> {
  // Resolves once every connection is gone.
  const closed = new Promise<void>((resolve) => void io.close(() => resolve()))
  let timer: NodeJS.Timeout | undefined
  const graceOver = new Promise<'grace over'>((resolve) => (timer = setTimeout(() => resolve('grace over'), graceMs)))
  if ((await Promise.race([closed, graceOver])) === 'grace over') connections.destroyAll()
  clearTimeout(timer)
  await closed
}
