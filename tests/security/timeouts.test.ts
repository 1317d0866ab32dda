/**
 * Slow and idle clients on raw sockets: a request whose headers or body
 * trickle in is answered 408 and closed once its timeout passes (Node checks
 * every second), an idle keep-alive connection is closed, a client that
 * stops reading is cut after the idle timeout; an honest slow upload, an
 * open WebSocket and a held long-poll are not. The timeouts are set short
 * here (docs/security.md has the defaults); the defaults' own relation to
 * Engine.IO's ping interval is checked against a real handshake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../src/main/core/server/limits'
import { TIMEOUT_CHECK_MS } from '../../src/main/core/server/edge'
import { TEST_TOKENS, connectDashboard, postJson, startCore } from '../helpers/core'
import { parseResponse, rawConnection } from '../helpers/raw-http'
import { selfSignedCert } from '../helpers/tls'
import { healthy, sleep } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const LIMITS = { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveMs: 400, idleSocketMs: 1200 }
/** Node enforces the header and request timeouts when it next checks; and a little for a busy machine. */
const SLACK_MS = TIMEOUT_CHECK_MS + 700

describe('timeouts', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'], { limits: LIMITS })
  })
  afterAll(() => core.stop())

  it('answers 408 and closes a request whose headers trickle in', async () => {
    const slow = await rawConnection(core.url)
    slow.write('GET /healthz HTTP/1.1\r\n')
    // A header line every 200 ms: always something arriving, never the end of the headers.
    const trickle = setInterval(() => slow.write(`X-Slow: ${Date.now()}\r\n`), 200)
    const closedAfter = await slow.closed.finally(() => clearInterval(trickle))
    expect(parseResponse(slow.received())?.status).toBe(408)
    expect(closedAfter).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50)
    expect(closedAfter).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS)
  })

  it('answers 408 and closes a request whose body trickles in, a byte at a time (slowloris)', async () => {
    const slow = await rawConnection(core.url)
    slow.write(
      'POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n' +
        `Authorization: Bearer ${TEST_TOKENS.operator}\r\n\r\n{`,
    )
    const trickle = setInterval(() => slow.write(' '), 200)
    const closedAfter = await slow.closed.finally(() => clearInterval(trickle))
    const answer = parseResponse(slow.received())
    expect(answer?.status).toBe(408)
    expect(JSON.parse(answer!.body)).toMatchObject({
      error: { code: 'bad_request', message: /did not arrive in time/ },
    })
    expect(closedAfter).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50)
    expect(closedAfter).toBeLessThan(LIMITS.requestTimeoutMs + SLACK_MS)
    await healthy(core.url)
  })

  it('closes a request answered before its body arrived (401) when the body trickles on, without a second answer', async () => {
    const slow = await rawConnection(core.url)
    slow.write('POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{')
    const trickle = setInterval(() => slow.write(' '), 200)
    const closedAfter = await slow.closed.finally(() => clearInterval(trickle))
    expect(parseResponse(slow.received())?.status).toBe(401)
    expect(slow.received().match(/HTTP\/1\.1 /g)).toHaveLength(1)
    expect(closedAfter).toBeLessThan(LIMITS.requestTimeoutMs + SLACK_MS)
  })

  it('takes an honest slow upload of a 64 KiB body that arrives within the request timeout', async () => {
    const body = Buffer.from(
      JSON.stringify({ name: 'slow upload', kind: 'report', payload: { blob: 'x'.repeat(64 * 1024 - 200) } }),
    )
    expect(body.length).toBeLessThanOrEqual(DEFAULT_LIMITS.messageBytes)
    const client = await rawConnection(core.url)
    client.write(
      'POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${body.length}\r\nAuthorization: Bearer ${TEST_TOKENS.operator}\r\n\r\n`,
    )
    // Ten pieces over about 60% of the request timeout.
    const piece = Math.ceil(body.length / 10)
    for (let offset = 0; offset < body.length; offset += piece) {
      client.write(body.subarray(offset, offset + piece))
      await sleep((LIMITS.requestTimeoutMs * 0.6) / 10)
    }
    const answer = await client.response()
    expect(answer.status).toBe(201)
    client.socket.destroy()
  })

  it('closes a keep-alive connection left idle after its answer', async () => {
    const client = await rawConnection(core.url)
    client.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    expect((await client.response()).status).toBe(200)
    const answered = Date.now()
    await client.closed
    const idle = Date.now() - answered
    // Node adds a second to the advertised keep-alive (`Keep-Alive: timeout=…`) against races with clients.
    expect(idle).toBeGreaterThanOrEqual(LIMITS.keepAliveMs - 50)
    expect(idle).toBeLessThan(LIMITS.keepAliveMs + 1000 + 700)
  })

  it('cuts a client that stops reading a large answer, after one to two idle timeouts', async () => {
    // A task list of about 9 MB (GET /api/tasks carries payloads; the snapshot does not): more than the socket
    // buffers hold, so the server's writes stall.
    for (let i = 0; i < 150; i++) {
      const submitted = await postJson(
        `${core.url}/api/tasks`,
        { name: `big ${i}`, kind: 'report', payload: { blob: 'x'.repeat(60_000) } },
        TEST_TOKENS.operator,
      )
      expect(submitted.status).toBe(201)
    }
    const client = await rawConnection(core.url)
    client.socket.pause()
    client.write(`GET /api/tasks?limit=1000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKENS.viewer}\r\n\r\n`)
    // Node lets the first expiry pass while a write is still going out; the second one cuts.
    await sleep(2 * LIMITS.idleSocketMs + 700)
    client.socket.resume()
    await client.closed
    const answer = client.received()
    const length = Number(/content-length: (\d+)/i.exec(answer)?.[1])
    expect(length).toBeGreaterThan(5_000_000)
    expect(answer.length).toBeLessThan(length)
    await healthy(core.url)
  })

  it('leaves an open WebSocket alone, longer than every timeout', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    try {
      await sleep(LIMITS.idleSocketMs + 500)
      expect(socket.connected).toBe(true)
      expect((await socket.emitWithAck('ping')).ok).toBe(true)
    } finally {
      socket.disconnect()
    }
  })
})

describe('timeouts over TLS', () => {
  it('closes a connection that never finishes its TLS handshake, like one that never sends its headers', async () => {
    const cert = selfSignedCert()
    const core = await startCore(['--no-demo', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile], {
      limits: LIMITS,
    })
    try {
      const { port } = new URL(core.url)
      // Plain TCP to the TLS port: no ClientHello ever comes.
      const silent = await rawConnection(`http://127.0.0.1:${port}`)
      const closedAfter = await silent.closed
      expect(closedAfter).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50)
      expect(closedAfter).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS)
    } finally {
      await core.stop()
    }
  })
})

describe('timeouts and long-polling', () => {
  let core: TestCore
  beforeAll(async () => {
    // The idle timeout keeps its default here: it must outlast a long-poll, which these do not.
    const { idleSocketMs: _default, ...short } = LIMITS
    core = await startCore(['--no-demo'], { limits: { ...short, namespaceJoinMs: 60_000 } })
  })
  afterAll(() => core.stop())

  it('keeps a long-poll held longer than the header, request and keep-alive timeouts', async () => {
    const handshake = await fetch(`${core.url}/socket.io/?EIO=4&transport=polling`)
    const open = JSON.parse((await handshake.text()).slice(1)) as { sid: string; pingInterval: number }
    const poll = await rawConnection(core.url)
    poll.write(`GET /socket.io/?EIO=4&transport=polling&sid=${open.sid} HTTP/1.1\r\nHost: x\r\n\r\n`)
    await sleep(LIMITS.requestTimeoutMs + LIMITS.keepAliveMs + SLACK_MS)
    // Still held: nothing answered, nothing closed (it is answered at the next ping).
    expect(poll.received()).toBe('')
    expect(poll.socket.destroyed).toBe(false)
    poll.socket.destroy()
  })

  it('has a default idle timeout longer than Engine.IO holds a long-poll (its ping interval)', async () => {
    const handshake = await fetch(`${core.url}/socket.io/?EIO=4&transport=polling`)
    const { pingInterval } = JSON.parse((await handshake.text()).slice(1)) as { pingInterval: number }
    expect(pingInterval).toBe(25_000)
    expect(DEFAULT_LIMITS.idleSocketMs).toBeGreaterThan(pingInterval + 5_000)
    expect(DEFAULT_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(DEFAULT_LIMITS.requestTimeoutMs)
  })
})
