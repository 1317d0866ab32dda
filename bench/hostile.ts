/**
 * Hostile clients for the hostile scenario, run in the orchestrator (they
 * cost little: most of them do nothing at all, which is the point).
 *
 * - `StalledViewers`: WebSocket viewers that join `/dashboard` with a valid
 *   token and then stop reading (the TCP socket paused, so the kernel's
 *   buffers fill and then the server's). They answer Engine.IO's heartbeat
 *   blindly, as an attacker would, so only the server's own rules end them,
 *   and a stalled viewer the server drops is replaced by a new one: the
 *   abuse is sustained.
 * - `Prober`: `GET /healthz` every 100 ms from a process of its own: how
 *   long the server keeps a plain request waiting (its stalls, seen from
 *   outside).
 * - `SlowBodies`, `RawSessions`: slowloris request bodies; Engine.IO sessions
 *   that join no namespace, or the default one.
 */
import { createRequire } from 'node:module'
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'

interface RawWebSocket {
  on(event: 'message', listener: (data: Buffer) => void): void
  on(event: 'close' | 'error', listener: () => void): void
  readonly readyState: number
  send(data: string): void
  pause(): void
  terminate(): void
}
type WebSocketClass = new (url: string) => RawWebSocket

// ws has no type declarations here; engine.io brings it, and this is the client it is tested with.
const WebSocket = createRequire(import.meta.url)('ws') as WebSocketClass

const OPEN = 1

export class StalledViewers {
  private readonly live = new Set<RawWebSocket>()
  private timer: NodeJS.Timeout | null = null
  /** Viewers opened, in all; those that joined `/dashboard` and then stopped reading. */
  opened = 0
  stalled = 0
  /** Connections that ended under them (the server dropped them, or refused them). */
  ended = 0

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly target: number,
  ) {}

  /** Opens `target` stalled viewers and keeps that many, replacing the ones that end. */
  start(): void {
    this.topUp()
    this.timer = setInterval(() => {
      // An unasked pong keeps Engine.IO's heartbeat satisfied; writing is also how a paused socket learns it was closed.
      for (const ws of this.live) if (ws.readyState === OPEN) ws.send('3')
      this.topUp()
    }, 2000)
  }

  get count(): number {
    return this.live.size
  }

  /** Ends every connection at once (abruptly, as a crashed client or a cut network would). */
  closeAll(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    for (const ws of this.live) ws.terminate()
    this.live.clear()
  }

  private topUp(): void {
    const { port, hostname } = new URL(this.url)
    for (let i = this.live.size; i < this.target; i++) {
      const ws = new WebSocket(`ws://${hostname}:${port}/socket.io/?EIO=4&transport=websocket`)
      this.opened++
      this.live.add(ws)
      ws.on('message', (data) => {
        const text = data.toString()
        if (text.startsWith('0')) ws.send(`40/dashboard,${JSON.stringify({ token: this.token })}`)
        else if (text.startsWith('40/dashboard')) {
          this.stalled++
          ws.pause()
        }
      })
      const end = () => {
        if (this.live.delete(ws)) this.ended++
      }
      ws.on('close', end)
      ws.on('error', end)
    }
  }
}

export interface ProbeReport {
  probes: number
  /** Answered after more than 5 s, or not at all. */
  timeouts: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

/**
 * The probe runs in a process of its own, so that what it measures is the
 * server and not the orchestrator, which is busy with hostile clients.
 */
const PROBE = `
const url = process.argv[1]
let latencies = []
let timeouts = 0
process.on('message', () => {
  process.send({ latencies, timeouts })
  latencies = []
  timeouts = 0
})
process.on('disconnect', () => process.exit(0))
;(async () => {
  for (;;) {
    const started = performance.now()
    try {
      const response = await fetch(url + '/healthz', { signal: AbortSignal.timeout(5000) })
      await response.arrayBuffer()
      latencies.push(performance.now() - started)
    } catch {
      timeouts++
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
})()
`

export class Prober {
  private child: ChildProcess | null = null

  constructor(private readonly url: string) {}

  start(): void {
    this.child = spawn(process.execPath, ['-e', PROBE, this.url], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  }

  /** What was seen since the last report. */
  async report(): Promise<ProbeReport> {
    const child = this.child
    if (!child) throw new Error('the prober has not started')
    const seen = await new Promise<{ latencies: number[]; timeouts: number }>((resolve) => {
      child.once('message', (message) => resolve(message as { latencies: number[]; timeouts: number }))
      child.send('report')
    })
    const sorted = [...seen.latencies].sort((a, b) => a - b)
    return {
      probes: sorted.length + seen.timeouts,
      timeouts: seen.timeouts,
      p50Ms: round(percentile(sorted, 0.5)),
      p99Ms: round(percentile(sorted, 0.99)),
      maxMs: round(sorted.at(-1) ?? 0),
    }
  }

  async stop(): Promise<void> {
    const child = this.child
    this.child = null
    if (!child || child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill()
    await exited
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10

function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!
}

/**
 * Slow request bodies (slowloris): each connection sends a POST's headers
 * with a 60,000-byte body announced, then one byte a second. A connection
 * the server closes is replaced, so `target` stay open as long as the
 * server lets them.
 */
export class SlowBodies {
  private readonly live = new Set<Socket>()
  private timer: NodeJS.Timeout | null = null
  opened = 0
  closed = 0
  /** Connections the server answered (`401` at once for want of a token, `408` at its timeout). */
  answered = 0

  constructor(
    private readonly url: string,
    private readonly target: number,
  ) {}

  start(): void {
    this.topUp()
    this.timer = setInterval(() => {
      for (const socket of this.live) socket.write('x')
      this.topUp()
    }, 1000)
  }

  get count(): number {
    return this.live.size
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    for (const socket of this.live) socket.destroy()
    this.live.clear()
  }

  private topUp(): void {
    const { hostname, port } = new URL(this.url)
    for (let i = this.live.size; i < this.target; i++) {
      const socket = connect(Number(port), hostname)
      this.opened++
      this.live.add(socket)
      socket.on('connect', () =>
        socket.write(
          `POST /api/tasks HTTP/1.1\r\nHost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: 60000\r\n\r\n{`,
        ),
      )
      socket.on('data', () => this.answered++)
      socket.on('error', () => {})
      socket.on('close', () => {
        if (this.live.delete(socket)) this.closed++
      })
    }
  }
}

/**
 * Engine.IO sessions that never join a namespace, opened at `perSecond`
 * (long-polling handshakes), plus as many attempts on the default namespace
 * `/`, which needs no token. Counts what the server answered.
 */
export class RawSessions {
  private timer: NodeJS.Timeout | null = null
  readonly answers: Record<string, number> = {}

  constructor(
    private readonly url: string,
    private readonly perSecond: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      for (let i = 0; i < this.perSecond / 10; i++) void this.open()
    }, 100)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }

  private count(key: string): void {
    this.answers[key] = (this.answers[key] ?? 0) + 1
  }

  private async open(): Promise<void> {
    try {
      const handshake = await fetch(`${this.url}/socket.io/?EIO=4&transport=polling`, {
        signal: AbortSignal.timeout(5000),
      })
      const body = await handshake.text()
      if (!handshake.ok) return this.count(`handshake ${handshake.status}`)
      this.count('session opened')
      // Every other one also asks for the default namespace, which serves nobody.
      if (Math.random() < 0.5) {
        const { sid } = JSON.parse(body.slice(1)) as { sid: string }
        const joined = await fetch(`${this.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
          method: 'POST',
          body: '40',
          signal: AbortSignal.timeout(5000),
        })
        await joined.text()
        const answer = await fetch(`${this.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
          signal: AbortSignal.timeout(5000),
        })
        this.count((await answer.text()).includes('44') ? '/ refused' : '/ not refused')
      }
    } catch {
      this.count('no answer')
    }
  }
}
