/**
 * A TCP pass-through on 127.0.0.1 that counts the bytes each way: what a
 * client really costs on the wire (HTTP headers, WebSocket framing,
 * Engine.IO pings and all), not an estimate from message sizes.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { TrafficCount } from './api'

export class ByteProxy {
  readonly count: TrafficCount = { down: 0, up: 0 }
  private readonly server: Server
  private readonly sockets = new Set<Socket>()

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort })
      this.sockets.add(client).add(upstream)
      client.on('data', (chunk: Buffer) => (this.count.up += chunk.length))
      upstream.on('data', (chunk: Buffer) => (this.count.down += chunk.length))
      client.pipe(upstream)
      upstream.pipe(client)
      const close = () => {
        client.destroy()
        upstream.destroy()
        this.sockets.delete(client)
        this.sockets.delete(upstream)
      }
      client.on('error', close)
      upstream.on('error', close)
      client.on('close', close)
      upstream.on('close', close)
    })
  }

  static forUrl(url: string): ByteProxy {
    const target = new URL(url)
    return new ByteProxy(target.hostname, Number(target.port))
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    if (address === null || typeof address === 'string') throw new Error('proxy has no port')
    return `http://127.0.0.1:${address.port}`
  }

  reset(): void {
    this.count.down = 0
    this.count.up = 0
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
