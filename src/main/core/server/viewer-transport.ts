/**
 * The `/dashboard` namespace on Socket.IO: its types, and the fanout's port
 * (pipeline/viewers.ts) on them — the namespace's rooms, and one viewer's
 * socket with the bytes waiting for it read from its Engine.IO connection
 * (outbox.ts).
 */
import type { Namespace, Socket } from 'socket.io'
import type { Role } from '../../../shared/domain'
import type { DashboardClientToServer, DashboardServerToClient } from '../../../shared/protocol'
import type { ViewerConnection, ViewerRooms } from '../pipeline/viewers'
import { queuedBytes, terminateTransport } from './outbox'

export interface DashboardSocketData {
  role: Role
  /** The name of the token it connected with (the audit trail's actor). */
  actor: string
}

export type DashboardNamespace = Namespace<
  DashboardClientToServer,
  DashboardServerToClient,
  Record<string, never>,
  DashboardSocketData
>
export type DashboardSocket = Socket<
  DashboardClientToServer,
  DashboardServerToClient,
  Record<string, never>,
  DashboardSocketData
>

export function viewerRooms(namespace: DashboardNamespace): ViewerRooms {
  return {
    sendEvents: (room, except, events) => void namespace.to(room).except(except).emit('events', events),
    sendSnapshot: (room, snapshot) => void namespace.to(room).emit('snapshot', snapshot),
  }
}

export function viewerConnection(socket: DashboardSocket): ViewerConnection {
  return {
    id: socket.id,
    address: socket.handshake.address,
    send: (events) => void socket.emit('events', events),
    // Joining and leaving are synchronous with the in-memory adapter; a promise would only come from a cluster adapter.
    join: (room) => void socket.join(room),
    leave: (room) => void socket.leave(room),
    queuedBytes: () => queuedBytes(socket.conn),
    drop: () => {
      socket.disconnect(true)
      terminateTransport(socket.conn)
    },
  }
}
