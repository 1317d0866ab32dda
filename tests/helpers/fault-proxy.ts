/**
 * A TCP proxy on 127.0.0.1 for fault tests: it forwards to a target server
 * and can misbehave the ways real networks do.
 *
 * - `cutAll()`: close every connection at once (RST-like, both ends).
 * - `down()`: refuse new connections too, as a stopped server would look.
 * - `blackhole()`: swallow every byte both ways but keep the connections
 *   open — a half-open link that TCP alone does not notice.
 * - `setLatency(ms)`: hold each chunk `ms` before passing it on, each way
 *   (so the round trip grows by twice that), order kept.
 * - `refuseWebSocket()`: answer any HTTP request carrying `Upgrade:
 *   websocket` with 400 and close, as proxies that do not speak WebSocket do.
 * - `breakPath('/socket.io/')`: answer requests whose path starts with the
 *   prefix with 502 and close, and cut the connections already carrying
 *   such a path (an upgraded WebSocket): Socket.IO broken, `/api/` alive.
 * - `pauseDownstream()`: stop reading from the server (a viewer that does
 *   not keep up), so its writes back up.
 *
 * Requests are recognised by the request line at the start of a chunk from
 * the client (browsers and Node send a request's head in one write and do
 * not pipeline), per connection, so keep-alive connections are judged
 * request by request.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

interface Lane {
  target: Socket
  queue: { at: number; chunk: Buffer }[]
  timer: ReturnType<typeof setTimeout> | null
}

interface Pair {
  client: Socket
  upstream: Socket
  /** Path of the last request seen on this connection. */
  lastPath: string | null
  /** After a WebSocket upgrade the bytes are frames, not requests. */
  upgraded: boolean
  up: Lane
  down: Lane
}

export interface RefusedRequest {
  method: string
  path: string
  why: 'websocket' | 'path'
}

export class FaultProxy {
  private readonly server: Server
  private readonly pairs = new Set<Pair>()
  private target: { host: string; port: number }
  private paused = false
  private blackholed = false
  private isDown = false
  private latencyMs = 0
  private noWebSocket = false
  private brokenPrefix: string | null = null
  port = 0
  /** Connections accepted (including refused ones). */
  accepted = 0
  readonly refused: RefusedRequest[] = []

  constructor(target: { host: string; port: number }) {
    this.target = target
    this.server = createServer((client) => this.accept(client))
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(hostPort(targetUrl))
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
    const address = proxy.server.address()
    if (address === null || typeof address === 'string') throw new Error('proxy has no port')
    proxy.port = address.port
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Open connections now. */
  get connections(): number {
    return this.pairs.size
  }

  /** New connections go to another server (a restarted one on another port). */
  retarget(targetUrl: string): void {
    this.target = hostPort(targetUrl)
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
    if (on) for (const pair of this.pairs) for (const lane of [pair.up, pair.down]) dropQueued(lane)
  }

  /** Closes every connection and, while on, every new one at once: the server looks stopped. */
  down(on = true): void {
    this.isDown = on
    if (on) this.cutAll()
  }

  /** Holds each chunk this long, each way; 0 turns it off. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms)
  }

  /** Answers WebSocket upgrade requests with 400 and closes them. */
  refuseWebSocket(on = true): void {
    this.noWebSocket = on
  }

  /** Refuses requests under `prefix` (502) and cuts connections carrying one; null heals. */
  breakPath(prefix: string | null): void {
    this.brokenPrefix = prefix
    if (prefix === null) return
    for (const pair of [...this.pairs]) if (pair.lastPath?.startsWith(prefix)) this.end(pair)
  }

  /** Closes every connection at once. */
  cutAll(): void {
    for (const pair of [...this.pairs]) this.end(pair)
  }

  /** Back to a plain proxy. */
  heal(): void {
    this.blackhole(false)
    this.down(false)
    this.setLatency(0)
    this.refuseWebSocket(false)
    this.breakPath(null)
    this.resumeDownstream()
  }

  async close(): Promise<void> {
    this.cutAll()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    this.accepted++
    if (this.isDown) {
      client.destroy()
      return
    }
    const upstream = createConnection(this.target)
    const pair: Pair = {
      client,
      upstream,
      lastPath: null,
      upgraded: false,
      up: { target: upstream, queue: [], timer: null },
      down: { target: client, queue: [], timer: null },
    }
    this.pairs.add(pair)
    if (this.paused) upstream.pause()
    client.on('data', (chunk: Buffer) => {
      if (this.blackholed) return
      if (!pair.upgraded) {
        const head = requestHead(chunk)
        if (head) {
          pair.lastPath = head.path
          const why = this.noWebSocket && head.upgrade ? 'websocket' : this.breaks(head.path) ? 'path' : null
          if (why) {
            this.refused.push({ method: head.method, path: head.path, why })
            const status = why === 'websocket' ? '400 Bad Request' : '502 Bad Gateway'
            client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
            upstream.destroy()
            this.pairs.delete(pair)
            return
          }
          if (head.upgrade) pair.upgraded = true
        }
      }
      this.forward(pair.up, chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!this.blackholed) this.forward(pair.down, chunk)
    })
    const end = () => this.end(pair)
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  }

  private breaks(path: string): boolean {
    return this.brokenPrefix !== null && path.startsWith(this.brokenPrefix)
  }

  /** Passes a chunk on now, or after the latency, never ahead of one queued before it. */
  private forward(lane: Lane, chunk: Buffer): void {
    if (this.latencyMs === 0 && lane.queue.length === 0) {
      if (!lane.target.destroyed) lane.target.write(chunk)
      return
    }
    lane.queue.push({ at: Date.now() + this.latencyMs, chunk })
    if (!lane.timer) this.drain(lane)
  }

  private drain(lane: Lane): void {
    lane.timer = null
    const now = Date.now()
    while (lane.queue.length > 0 && lane.queue[0]!.at <= now) {
      const { chunk } = lane.queue.shift()!
      if (!this.blackholed && !lane.target.destroyed) lane.target.write(chunk)
    }
    if (lane.queue.length > 0) lane.timer = setTimeout(() => this.drain(lane), lane.queue[0]!.at - now)
  }

  private end(pair: Pair): void {
    dropQueued(pair.up)
    dropQueued(pair.down)
    pair.client.destroy()
    pair.upstream.destroy()
    this.pairs.delete(pair)
  }
}

function dropQueued(lane: Lane): void {
  if (lane.timer) clearTimeout(lane.timer)
  lane.timer = null
  lane.queue.length = 0
}

function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port) }
}

/** The request line and whether it asks for a WebSocket, if the chunk starts an HTTP request. */
function requestHead(chunk: Buffer): { method: string; path: string; upgrade: boolean } | null {
  const text = chunk.subarray(0, Math.min(chunk.length, 16_384)).toString('latin1')
  const line = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/.exec(text)
  if (!line) return null
  const headEnd = text.indexOf('\r\n\r\n')
  const headers = headEnd === -1 ? text : text.slice(0, headEnd)
  return { method: line[1]!, path: line[2]!, upgrade: /\r\nupgrade:[ \t]*websocket/i.test(headers) }
}
