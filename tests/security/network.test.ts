/**
 * What reaches the server over the network: the default bind, the warning
 * for clear text beyond loopback, HTTPS and WSS with a certificate made here,
 * CORS and Origin checks on HTTP and both namespaces, security headers.
 */
import { request } from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import { io, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/main/core'
import { TEST_TOKENS, connectDashboard, startCore } from '../helpers/core'
import { selfSignedCert, type TestCert } from '../helpers/tls'
import { readLogs } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const sockets: Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

function client(url: string, token: string, options: Parameters<typeof io>[1] = {}): Socket {
  const socket = io(url, { auth: { token }, reconnection: false, forceNew: true, ...options })
  sockets.push(socket)
  return socket
}

/** Resolves with what happened first: connected (and got its first server message) or refused. */
function outcome(socket: Socket, firstEvent = 'snapshot'): Promise<'connected' | `refused: ${string}`> {
  return new Promise((resolve) => {
    socket.once(firstEvent, () => resolve('connected'))
    socket.once('connect', () => {
      if (firstEvent === 'connect') resolve('connected')
    })
    socket.once('connect_error', (error) => resolve(`refused: ${error.message}`))
  })
}

function httpsGet(
  url: string,
  ca?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('binding', () => {
  it('binds to 127.0.0.1 unless told otherwise', async () => {
    expect(loadConfig([], {}).host).toBe('127.0.0.1')
    const core = await startCore(['--no-demo'])
    expect(core.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    await core.stop()
  })

  it('warns when it listens beyond this machine without TLS', async () => {
    const core = await startCore(['--no-demo', '--host', '0.0.0.0'])
    await core.stop()
    expect(readLogs(core.dataDir)).toMatch(/listening beyond this machine without TLS/)
  })
})

describe('TLS', () => {
  let cert: TestCert
  let core: TestCore
  let url: string
  beforeAll(async () => {
    cert = selfSignedCert()
    core = await startCore(['--no-demo', '--host', '0.0.0.0', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile])
    url = `https://127.0.0.1:${new URL(core.url).port}`
  })
  afterAll(() => core.stop())

  it('serves HTTPS to clients that trust the certificate, and nothing in clear', async () => {
    expect(core.url).toMatch(/^https:/)
    const health = await httpsGet(`${url}/healthz`, cert.cert)
    expect(health.status).toBe(200)
    expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+/)
    const snapshot = await httpsGet(`${url}/api/snapshot`, cert.cert, { authorization: `Bearer ${TEST_TOKENS.viewer}` })
    expect(snapshot.status).toBe(200)
    await expect(httpsGet(`${url}/healthz`)).rejects.toThrow(/self-signed|self signed/)
    await expect(fetch(`http://127.0.0.1:${new URL(core.url).port}/healthz`)).rejects.toThrow()
  })

  it('carries Socket.IO over WSS and over HTTPS long-polling', async () => {
    const wss = client(`${url}/dashboard`, TEST_TOKENS.viewer, { transports: ['websocket'], ca: cert.cert })
    expect(await outcome(wss)).toBe('connected')
    expect(wss.io.engine.transport.name).toBe('websocket')
    const polling = client(`${url}/dashboard`, TEST_TOKENS.viewer, { transports: ['polling'], ca: cert.cert })
    expect(await outcome(polling)).toBe('connected')
    const untrusting = client(`${url}/dashboard`, TEST_TOKENS.viewer, { transports: ['websocket'] })
    expect(await outcome(untrusting)).toMatch(/^refused/)
  })

  it('does not warn about clear text', async () => {
    const other = await startCore([
      '--no-demo',
      '--host',
      '0.0.0.0',
      '--tls-cert',
      cert.certFile,
      '--tls-key',
      cert.keyFile,
    ])
    await other.stop()
    expect(readLogs(other.dataDir)).not.toMatch(/without TLS/)
  })
})

describe('origins', () => {
  let core: TestCore
  const allowed = 'https://monitor.example'
  const evil = 'https://evil.example'
  beforeAll(async () => {
    core = await startCore(['--no-demo', '--allow-origin', allowed])
  })
  afterAll(() => core.stop())

  it.each(['websocket', 'polling'] as const)('refuses an evil Origin on both namespaces over %s', async (transport) => {
    for (const [namespace, token, first] of [
      ['/dashboard', TEST_TOKENS.viewer, 'snapshot'],
      ['/agents', TEST_TOKENS.agent, 'connect'],
    ] as const) {
      const bad = client(`${core.url}${namespace}`, token, { transports: [transport], extraHeaders: { origin: evil } })
      expect(await outcome(bad, first)).toMatch(/^refused/)
      for (const origin of [core.url, allowed]) {
        const good = client(`${core.url}${namespace}`, token, { transports: [transport], extraHeaders: { origin } })
        expect(await outcome(good, first)).toBe('connected')
      }
    }
  })

  it('refuses an evil Origin on HTTP, preflights included, and answers allowed ones with CORS headers, never *', async () => {
    const viewer = { authorization: `Bearer ${TEST_TOKENS.viewer}` }
    for (const path of ['/healthz', '/api/snapshot', '/']) {
      const response = await fetch(`${core.url}${path}`, { headers: { ...viewer, origin: evil } })
      expect({ path, status: response.status }).toEqual({ path, status: 403 })
      expect(await response.json()).toMatchObject({ error: { code: 'forbidden', message: /origin/ } })
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
    }
    const preflight = (origin: string) =>
      fetch(`${core.url}/api/tasks`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      })
    expect((await preflight(evil)).status).toBe(403)
    const ok = await preflight(allowed)
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowed)
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/)

    const cors = await fetch(`${core.url}/api/snapshot`, { headers: { ...viewer, origin: allowed } })
    expect(cors.status).toBe(200)
    expect(cors.headers.get('access-control-allow-origin')).toBe(allowed)
    const own = await fetch(`${core.url}/api/snapshot`, { headers: { ...viewer, origin: core.url } })
    expect(own.status).toBe(200)
    const none = await fetch(`${core.url}/api/snapshot`, { headers: viewer })
    expect(none.status).toBe(200)
    expect(none.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('never answers CORS with *, even with no allowlist', async () => {
    const bare = await startCore(['--no-demo'])
    try {
      const response = await fetch(`${bare.url}/healthz`, { headers: { origin: 'https://anything.example' } })
      expect(response.status).toBe(403)
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await bare.stop()
    }
  })
})

describe('security headers', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  it('sends a strict CSP and the usual hardening headers on every answer, errors included', async () => {
    for (const path of ['/healthz', '/', '/api/snapshot', '/no/such/route']) {
      const response = await fetch(`${core.url}${path}`)
      const csp = response.headers.get('content-security-policy') ?? ''
      const directives = Object.fromEntries(
        csp.split(';').map((d) => {
          const [name, ...values] = d.trim().split(/\s+/)
          return [name, values.join(' ')]
        }),
      )
      expect({ path, directives }).toEqual({
        path,
        directives: {
          'default-src': "'self'",
          'script-src': "'self'",
          'style-src': "'self'",
          'img-src': "'self' data:",
          'font-src': "'self'",
          'connect-src': "'self' ws: wss:",
          'object-src': "'none'",
          'base-uri': "'none'",
          'form-action': "'self'",
          'frame-ancestors': "'none'",
        },
      })
      expect(response.headers.get('x-frame-options')).toBe('DENY')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(response.headers.get('referrer-policy')).toBe('no-referrer')
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin')
      expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin')
      // No HSTS over plain HTTP: it would pin browsers to an HTTPS that is not there.
      expect(response.headers.get('strict-transport-security')).toBeNull()
    }
  })

  it('keeps the Socket.IO endpoint to itself: a connected viewer still works', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket as unknown as Socket)
    expect((await socket.emitWithAck('ping')).ok).toBe(true)
  })
})
