/**
 * The classic dashboard this product replaces: `GET /api/snapshot` once a
 * second over one kept-alive connection, as a browser tab would.
 */
import { Agent, request } from 'node:http'
import { gzipSync } from 'node:zlib'

export interface PollCount {
  requests: number
  failed: number
  bodyBytes: number
  gzipBodyBytes: number
}

export class Poller {
  readonly count: PollCount = { requests: 0, failed: 0, bodyBytes: 0, gzipBodyBytes: 0 }
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })
  private timer: NodeJS.Timeout | null = null
  private busy = false

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** One request now; resolves when its body is in. */
  poll(): Promise<void> {
    if (this.busy) return Promise.resolve()
    this.busy = true
    return new Promise<void>((resolve) => {
      const done = (ok: boolean, body?: Buffer) => {
        this.busy = false
        this.count.requests++
        if (!ok || !body) this.count.failed++
        else {
          this.count.bodyBytes += body.length
          this.count.gzipBodyBytes += gzipSync(body).length
        }
        resolve()
      }
      const req = request(
        `${this.url}/api/snapshot`,
        { agent: this.agent, headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' } },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => done(res.statusCode === 200, Buffer.concat(chunks)))
          res.on('error', () => done(false))
        },
      )
      req.setTimeout(5000, () => req.destroy())
      req.on('error', () => done(false))
      req.end()
    })
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.poll(), intervalMs)
  }

  reset(): void {
    Object.assign(this.count, { requests: 0, failed: 0, bodyBytes: 0, gzipBodyBytes: 0 })
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.agent.destroy()
  }
}
