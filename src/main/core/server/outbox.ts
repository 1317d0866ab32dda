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
 * that moves them fails there). viewer-transport.ts is the only user. It
 * also turns permessage-deflate off for messages that are compressed
 * already (`sendUncompressed`).
 */

interface EnginePacket {
  data?: unknown
}

type SendCallback = (error?: Error) => void

interface RawWebSocket {
  bufferedAmount?: number
  terminate?(): void
  send?(data: unknown, options?: object | SendCallback, callback?: SendCallback): void
}

interface EngineTransport {
  name?: string
  socket?: RawWebSocket
}

interface EngineConnection {
  writeBuffer?: EnginePacket[]
  transport?: EngineTransport
  close?(discard?: boolean): void
  on?(event: 'upgrade', listener: (transport: EngineTransport) => void): void
}

function packetBytes(packet: EnginePacket): number {
  const data = packet.data
  if (typeof data === 'string') return data.length
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  return 0
}

function webSocketOf(conn: EngineConnection): RawWebSocket | undefined {
  return webSocketOfTransport(conn.transport)
}

function webSocketOfTransport(transport: EngineTransport | undefined): RawWebSocket | undefined {
  return transport?.name === 'websocket' ? transport.socket : undefined
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

/** The WebSockets whose compressed messages already go out without permessage-deflate. */
const uncompressed = new WeakSet<RawWebSocket>()

/**
 * Sends this connection's messages that start with one of `prefixes` (ours,
 * compressed already: the `deflate-raw` encoding) without permessage-deflate,
 * now and after an upgrade from long-polling. Engine.IO 6.6 does not pass a
 * message's `compress: false` on to ws, which would deflate every such frame
 * a second time, for each viewer (tests/integration/ws-compression.test.ts
 * reads the frames' RSV1 bit). Other frames keep what `--ws-compression` says.
 */
export function sendUncompressed(conn: object, prefixes: readonly string[]): void {
  const engine = conn as EngineConnection
  const patch = (transport: EngineTransport | undefined) => {
    const ws = webSocketOfTransport(transport)
    const send = ws?.send
    if (!ws || !send || uncompressed.has(ws)) return
    uncompressed.add(ws)
    ws.send = (data, options, callback) => {
      if (typeof options === 'function') [callback, options] = [options as SendCallback, {}]
      const ours = typeof data === 'string' && prefixes.some((prefix) => data.startsWith(prefix))
      send.call(ws, data, ours ? { ...options, compress: false } : options, callback)
    }
  }
  patch(engine.transport)
  engine.on?.('upgrade', patch)
}
