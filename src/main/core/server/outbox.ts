/**
 * What waits in this process to reach one viewer, read from its Engine.IO
 * connection: the packets not yet handed to the transport (Engine.IO's write
 * buffer: everything while a WebSocket is busy, everything between two polls
 * of a long-polling client) plus, on WebSocket, what ws still holds (its
 * compression queue and the TCP socket's user-space buffer). The kernel's
 * socket buffers are not counted: they are not this process's memory.
 *
 * Engine.IO keeps these fields private in its types; they are stable in
 * engine.io 6 and ws 8 (tests/security/slow-viewers.test.ts and
 * tests/integration/pipeline.test.ts stall real connections, so an upgrade
 * that moves them fails there). viewer-transport.ts is the only user.
 */

interface EnginePacket {
  data?: unknown
}

interface RawWebSocket {
  bufferedAmount?: number
  terminate?(): void
}

interface EngineConnection {
  writeBuffer?: EnginePacket[]
  transport?: { name?: string; socket?: RawWebSocket }
  close?(discard?: boolean): void
}

function packetBytes(packet: EnginePacket): number {
  const data = packet.data
  if (typeof data === 'string') return data.length
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  return 0
}

function webSocketOf(conn: EngineConnection): RawWebSocket | undefined {
  return conn.transport?.name === 'websocket' ? conn.transport.socket : undefined
}

/** Bytes waiting in this process for the viewer behind `conn` (a Socket.IO socket's `conn`). */
export function queuedBytes(conn: object): number {
  const engine = conn as EngineConnection
  let bytes = 0
  for (const packet of engine.writeBuffer ?? []) bytes += packetBytes(packet)
  const ws = webSocketOf(engine)
  if (typeof ws?.bufferedAmount === 'number') bytes += ws.bufferedAmount
  return bytes
}

/**
 * Ends a connection now, dropping what waits for it. A graceful close waits
 * for the write buffer to drain (Engine.IO) and up to 30 s for the peer's
 * close frame (ws): a peer that reads nothing would keep every buffered byte
 * that long. Called after `socket.disconnect(true)`: nothing more is owed.
 */
export function terminateTransport(conn: object): void {
  const engine = conn as EngineConnection
  const ws = webSocketOf(engine)
  engine.close?.(true)
  ws?.terminate?.()
}
