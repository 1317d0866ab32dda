import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { inflateRawSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { TEST_TOKENS, dashboardClient, startCore, until, type DashboardSocket } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>
const cores: TestCore[] = []
const closers: (() => void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) close()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

/** The extensions the server accepted for a raw Engine.IO WebSocket that offers permessage-deflate. */
async function negotiated(core: TestCore): Promise<string> {
  const url = `${core.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`
  const socket = new WebSocket(url, { perMessageDeflate: true })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return socket.extensions
  } finally {
    socket.close()
  }
}

interface Frame {
  /** RSV1: the frame's payload is compressed by permessage-deflate. */
  deflated: boolean
  opcode: number
  length: number
  /** The payload's first characters (readable when not deflated). */
  start: string
}

/**
 * A TCP pass-through that reads the server's side of one WebSocket: the
 * upgrade response's headers, then every frame's header (server frames are
 * not masked).
 */
class FrameTap {
  readonly frames: Frame[] = []
  head = ''
  private readonly server: Server
  private buffer = Buffer.alloc(0)
  private inHead = true

  constructor(target: URL) {
    this.server = createServer((client: Socket) => {
      const upstream = createConnection({ host: target.hostname, port: Number(target.port) })
      client.pipe(upstream)
      upstream.pipe(client)
      upstream.on('data', (chunk: Buffer) => this.read(chunk))
      const close = () => {
        client.destroy()
        upstream.destroy()
      }
      for (const socket of [client, upstream]) socket.on('error', close).on('close', close)
    })
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    return `http://127.0.0.1:${address.port}`
  }

  close(): void {
    this.server.close()
  }

  private read(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    if (this.inHead) {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      this.head = this.buffer.subarray(0, end).toString()
      this.buffer = this.buffer.subarray(end + 4)
      this.inHead = false
    }
    for (;;) {
      if (this.buffer.length < 2) return
      const first = this.buffer[0]!
      let length = this.buffer[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.buffer.length < 4) return
        length = this.buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.buffer.length < 10) return
        length = Number(this.buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (this.buffer.length < offset + length) return
      const start = this.buffer.subarray(offset, offset + Math.min(length, 40)).toString('latin1')
      this.frames.push({ deflated: (first & 0x40) !== 0, opcode: first & 0x0f, length, start })
      this.buffer = this.buffer.subarray(offset + length)
    }
  }
}

describe('WebSocket compression', () => {
  it('is off by default', async () => {
    const core = await startCore(['--no-demo'])
    cores.push(core)
    expect(await negotiated(core)).toBe('')
  })

  it('is negotiated with --ws-compression', async () => {
    const core = await startCore(['--no-demo', '--ws-compression'])
    cores.push(core)
    expect(await negotiated(core)).toContain('permessage-deflate')
  })

  it('does not deflate again what a deflate-raw viewer gets compressed already; a plain viewer’s frames it does', async () => {
    const core = await startCore(['--no-demo', '--ws-compression'])
    cores.push(core)
    const watch = async (encoding: string | undefined) => {
      const tap = new FrameTap(new URL(core.url))
      closers.push(() => tap.close())
      const socket: DashboardSocket = dashboardClient(await tap.listen(), TEST_TOKENS.viewer, {
        auth: { token: TEST_TOKENS.viewer, ...(encoding ? { encoding } : {}) },
      })
      closers.push(() => socket.disconnect())
      let seq = 0
      socket.on('events', (events) => (seq = events.at(-1)!.seq))
      socket.on('events:deflate-raw', (data) => {
        const events = JSON.parse(inflateRawSync(Buffer.from(data, 'base64')).toString()) as { seq: number }[]
        seq = events.at(-1)!.seq
      })
      await new Promise((resolve) => socket.once('welcome', resolve))
      return { tap, seq: () => seq }
    }
    const compressed = await watch('deflate-raw')
    const plain = await watch(undefined)
    // Batches of 50 error lines (they leave at the end of the turn), of random text: several KB compressed.
    for (let i = 0; i < 200; i++) {
      core.coordinator.reportLog(null, null, 'error', `line ${i} ${randomBytes(40).toString('hex')}`)
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await until(() => compressed.seq() >= 200 && plain.seq() >= 200, 5000, 'every line at both viewers')

    for (const { tap } of [compressed, plain]) expect(tap.head).toMatch(/sec-websocket-extensions: permessage-deflate/i)
    // What the deflate-raw viewer got over ws's 1 KiB threshold is all ours, compressed once, and sent as it was.
    const large = compressed.tap.frames.filter((frame) => frame.length >= 1024)
    expect(large.length).toBeGreaterThan(2)
    for (const frame of large) {
      expect(frame.deflated).toBe(false)
      expect(frame.start).toMatch(/^42\/dashboard,\["(events|snapshot):deflate-raw","/)
    }
    expect(plain.tap.frames.filter((frame) => frame.opcode === 1 && frame.deflated).length).toBeGreaterThan(0)
  })
})
