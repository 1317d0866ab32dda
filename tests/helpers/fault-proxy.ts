/**
 * A TCP proxy on 127.0.0.1 for fault tests: forwards to a target and can
 * stop reading from the server (a viewer that does not keep up), cut every
 * connection, or swallow traffic without closing (a half-open link).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

interface Pair {
  client: Socket
  upstream: Socket
}

export class FaultProxy {
  private readonly server: Server
  private readonly pairs = new Set<Pair>()
  private paused = false
  private blackholed = false
  port = 0

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client))
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const url = new URL(targetUrl)
    const proxy = new FaultProxy({ host: url.hostname, port: Number(url.port) })
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
    const address = proxy.server.address()
    if (address === null || typeof address === 'string') throw new Error('proxy has no port')
    proxy.port = address.port
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Stops reading what the server sends, so its writes back up (TCP backpressure). */
  pauseDownstream(): void {
    this.paused = true
    for (const pair of this.pairs) pair.upstream.pause()
  }

  resumeDownstream(): void {
    this.paused = false
    for (const pair of this.pairs) pair.upstream.resume()
  }

  /** Drops every byte both ways but keeps the connections open. */
  blackhole(on = true): void {
    this.blackholed = on
  }

  /** Closes every connection at once. */
  cutAll(): void {
    for (const pair of this.pairs) {
      pair.client.destroy()
      pair.upstream.destroy()
    }
    this.pairs.clear()
  }

  async close(): Promise<void> {
    this.cutAll()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.target)
    const pair = { client, upstream }
    this.pairs.add(pair)
    if (this.paused) upstream.pause()
    client.on('data', (chunk) => {
      if (!this.blackholed) upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!this.blackholed) client.write(chunk)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
      this.pairs.delete(pair)
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  }
}
