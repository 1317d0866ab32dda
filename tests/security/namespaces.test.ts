/**
 * Sessions that join no namespace: the default namespace `/` refuses
 * everyone, token or not; an Engine.IO session that joins nothing (never
 * sends a CONNECT, or only a refused one) is closed after `namespaceJoinMs`;
 * and the sessions waiting to join are capped in all and per address.
 */
import { io, type Socket } from 'socket.io-client'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_NAMESPACE_REFUSAL } from '../../src/main/core/server/sessions'
import { TEST_TOKENS, connectDashboard, startCore } from '../helpers/core'
import { rawRequest, upgradeRequest } from '../helpers/raw-http'
import { metric } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const JOIN_MS = 1000
const sockets: Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

/** Opens an Engine.IO long-polling session by hand, as `address` (through X-Forwarded-For), or says why not. */
async function handshake(
  url: string,
  address?: string,
): Promise<{ sid: string } | { status: number; message: string }> {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
    headers: address ? { 'x-forwarded-for': address } : {},
  })
  const text = await response.text()
  if (response.status !== 200)
    return { status: response.status, message: (JSON.parse(text) as { message: string }).message }
  return { sid: (JSON.parse(text.slice(1)) as { sid: string }).sid }
}

const sidOf = (result: Awaited<ReturnType<typeof handshake>>) => {
  if (!('sid' in result)) throw new Error(`handshake refused: ${result.status} ${result.message}`)
  return result.sid
}

/** Resolves with the milliseconds until the long-polling session `sid` is gone (a GET answers 400 unknown sid). */
async function goneAfter(url: string, sid: string, started: number, timeoutMs = 5000): Promise<number> {
  while (Date.now() - started < timeoutMs) {
    // A held GET returns when the server closes the session (or at its next ping).
    const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.text()
    if (response.status === 400) return Date.now() - started
  }
  throw new Error(`session ${sid} still open after ${timeoutMs} ms`)
}

describe('the default namespace', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'], { limits: { namespaceJoinMs: JOIN_MS } })
  })
  afterAll(() => core.stop())

  it.each([
    ['no token', undefined],
    ['the operator token', TEST_TOKENS.operator],
    ['the viewer token', TEST_TOKENS.viewer],
    ['the agent token', TEST_TOKENS.agent],
  ])('refuses a client with %s, over both transports', async (_what, token) => {
    for (const transport of ['websocket', 'polling'] as const) {
      const socket = io(core.url, {
        auth: token === undefined ? {} : { token },
        transports: [transport],
        reconnection: false,
        forceNew: true,
      })
      sockets.push(socket)
      const error = await new Promise<Error>((resolve, reject) => {
        socket.once('connect', () => reject(new Error('connected to /')))
        socket.once('connect_error', resolve)
      })
      expect(error.message, transport).toBe(DEFAULT_NAMESPACE_REFUSAL)
    }
  })

  it('closes a raw session whose only CONNECT was to / (refused), token or not', async () => {
    for (const auth of ['', JSON.stringify({ token: TEST_TOKENS.operator })]) {
      const started = Date.now()
      const sid = sidOf(await handshake(core.url))
      const session = `${core.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`
      const sent = await fetch(session, { method: 'POST', body: `40${auth}` })
      expect(sent.status).toBe(200)
      expect(await (await fetch(session)).text()).toBe(`44${JSON.stringify({ message: DEFAULT_NAMESPACE_REFUSAL })}`)
      const after = await goneAfter(core.url, sid, started)
      expect(after).toBeGreaterThanOrEqual(JOIN_MS - 100)
      expect(after).toBeLessThan(JOIN_MS + 1500)
    }
  })

  it('closes a raw long-polling session that never sends a namespace CONNECT', async () => {
    const started = Date.now()
    const sid = sidOf(await handshake(core.url))
    const after = await goneAfter(core.url, sid, started)
    expect(after).toBeGreaterThanOrEqual(JOIN_MS - 100)
    expect(after).toBeLessThan(JOIN_MS + 1500)
  })

  it('closes a raw WebSocket session that never sends a namespace CONNECT', async () => {
    const started = Date.now()
    const ws = new WebSocket(`${core.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
    const opened = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())))
    const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now() - started)))
    expect(await opened).toMatch(/^0\{"sid"/)
    const after = await closed
    expect(after).toBeGreaterThanOrEqual(JOIN_MS - 100)
    expect(after).toBeLessThan(JOIN_MS + 1500)
  })

  it('leaves a session that joined /dashboard alone', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket as unknown as Socket)
    await new Promise((resolve) => setTimeout(resolve, JOIN_MS + 500))
    expect(socket.connected).toBe(true)
    expect((await socket.emitWithAck('ping')).ok).toBe(true)
  })
})

describe('the cap on sessions without a namespace', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'], {
      limits: { namespaceJoinMs: 1500, sessionsWithoutNamespace: 4, sessionsWithoutNamespacePerAddress: 2 },
    })
  })
  afterAll(() => core.stop())

  it('refuses a handshake over the per-address and the total cap, and admits again once sessions join or close', async () => {
    const before = await metric(core.url, 'swarm_rate_limited_total', { via: 'handshake' })
    const a1 = sidOf(await handshake(core.url, '203.0.113.1'))
    sidOf(await handshake(core.url, '203.0.113.1'))
    expect(await handshake(core.url, '203.0.113.1')).toEqual({
      status: 403,
      message: expect.stringMatching(/too many connections from this address that have not joined a namespace \(2\)/),
    })
    // A WebSocket handshake ws refuses after admission (a bad version) must not keep its place.
    for (let i = 0; i < 3; i++) {
      const refused = await rawRequest(
        core.url,
        upgradeRequest('/socket.io/?EIO=4&transport=websocket', {
          'X-Forwarded-For': '203.0.113.2',
          'Sec-WebSocket-Version': '7',
        }),
      )
      expect(refused.status).toBe(400)
    }
    sidOf(await handshake(core.url, '203.0.113.2'))
    sidOf(await handshake(core.url, '203.0.113.3'))
    for (const address of ['203.0.113.4', undefined]) {
      expect(await handshake(core.url, address)).toEqual({
        status: 403,
        message: expect.stringMatching(/too many connections that have not joined a namespace \(4\)/),
      })
    }
    expect(await metric(core.url, 'swarm_rate_limited_total', { via: 'handshake' })).toBe(before + 3)

    // One of them joins /dashboard: its place is free.
    const joined = await fetch(`${core.url}/socket.io/?EIO=4&transport=polling&sid=${a1}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: `40/dashboard,${JSON.stringify({ token: TEST_TOKENS.viewer })}`,
    })
    expect(joined.status).toBe(200)
    const answer = await (await fetch(`${core.url}/socket.io/?EIO=4&transport=polling&sid=${a1}`)).text()
    expect(answer).toMatch(/^40\/dashboard,/)
    sidOf(await handshake(core.url, '203.0.113.4'))

    // The others are closed after namespaceJoinMs: every place is free again.
    await new Promise((resolve) => setTimeout(resolve, 1500 + 1000))
    for (const address of ['203.0.113.1', '203.0.113.1', '203.0.113.5', undefined]) {
      sidOf(await handshake(core.url, address))
    }
  })
})
