/**
 * The `/dashboard` namespace on Socket.IO: its types, and the fanout's port
 * (pipeline/viewers.ts) on them — the namespace's rooms, and one viewer's
 * socket with the bytes waiting for it read from its Engine.IO connection
 * (outbox.ts).
 *
 * Encodings (viewer-encoding.ts): a `json` room gets `events` and
 * `snapshot`, which Socket.IO encodes once per emit; a `deflate-raw` room
 * gets the same JSON deflated once per emit, in base64
 * (`events:deflate-raw`, `snapshot:deflate-raw`), over WebSocket and
 * long-polling alike — or plain when it is small.
 */
import type { Namespace, Socket } from 'socket.io'
import type { Role } from '../../../shared/domain'
import type { DomainEvent } from '../../../shared/events'
import {
  DASHBOARD_NAMESPACE,
  type DashboardClientToServer,
  type DashboardServerToClient,
  type Snapshot,
  type ViewerEncoding,
} from '../../../shared/protocol'
import type { ViewerConnection, ViewerRooms } from '../pipeline/viewers'
import { queuedBytes, sendUncompressed, terminateTransport } from './outbox'
import type { ViewerEncoder } from './viewer-encoding'

export interface DashboardSocketData {
  role: Role
  /** The name of the token it connected with (the audit trail's actor). */
  actor: string
  /** From `auth.encoding` (viewer-encoding.ts). */
  encoding: ViewerEncoding
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

/** How our compressed messages start on the wire (Engine.IO message, Socket.IO event, namespace, name). */
const DEFLATED_PREFIXES = ['events:deflate-raw', 'snapshot:deflate-raw'].map(
  (name) => `42${DASHBOARD_NAMESPACE},["${name}",`,
)

/** Where an emit goes: a room of the namespace, or one socket. */
interface Target {
  emit(event: 'events', events: DomainEvent[]): unknown
  emit(event: 'snapshot', snapshot: Snapshot): unknown
  compress(compress: false): { emit(event: 'events:deflate-raw' | 'snapshot:deflate-raw', base64: string): unknown }
}

function emitEvents(target: Target, events: DomainEvent[], encoding: ViewerEncoding, encoder: ViewerEncoder): void {
  const bytes = encoding === 'deflate-raw' ? encoder.deflated(events) : null
  // Already compressed: neither permessage-deflate nor the long-polling transport's gzip should try again.
  if (bytes) target.compress(false).emit('events:deflate-raw', bytes)
  else target.emit('events', events)
}

function emitSnapshot(target: Target, snapshot: Snapshot, encoding: ViewerEncoding, encoder: ViewerEncoder): void {
  const bytes = encoding === 'deflate-raw' ? encoder.deflated(snapshot) : null
  if (bytes) target.compress(false).emit('snapshot:deflate-raw', bytes)
  else target.emit('snapshot', snapshot)
}

export function viewerRooms(namespace: DashboardNamespace, encoder: ViewerEncoder): ViewerRooms {
  return {
    sendEvents: (room, except, events, encoding) =>
      emitEvents(namespace.to(room).except(except), events, encoding, encoder),
    sendSnapshot: (room, snapshot, encoding) => emitSnapshot(namespace.to(room), snapshot, encoding, encoder),
  }
}

/**
 * One viewer's socket as the fanout sees it. A class, so that its methods
 * are shared by every viewer rather than closures made for each.
 * `wsCompression`: the server negotiates permessage-deflate, which must not
 * deflate a `deflate-raw` viewer's compressed messages again.
 */
class ViewerSocket implements ViewerConnection {
  readonly encoding: ViewerEncoding

  constructor(
    private readonly socket: DashboardSocket,
    private readonly encoder: ViewerEncoder,
    wsCompression: boolean,
  ) {
    this.encoding = socket.data.encoding ?? 'json'
    if (this.encoding !== 'json' && wsCompression) sendUncompressed(socket.conn, DEFLATED_PREFIXES)
  }

  get id(): string {
    return this.socket.id
  }

  get address(): string {
    return this.socket.handshake.address
  }

  send(events: DomainEvent[]): void {
    emitEvents(this.socket, events, this.encoding, this.encoder)
  }

  // Joining and leaving are synchronous with the in-memory adapter; a promise would only come from a cluster adapter.
  join(room: string): void {
    void this.socket.join(room)
  }

  leave(room: string): void {
    void this.socket.leave(room)
  }

  queuedBytes(): number {
    return queuedBytes(this.socket.conn)
  }

  drop(): void {
    this.socket.disconnect(true)
    terminateTransport(this.socket.conn)
  }
}

export function viewerConnection(
  socket: DashboardSocket,
  encoder: ViewerEncoder,
  wsCompression = false,
): ViewerConnection {
  return new ViewerSocket(socket, encoder, wsCompression)
}
