/**
 * Every answer carries the security headers (docs/security.md), whoever
 * writes it: Fastify's routes, static files and errors, its early refusals
 * (Origin, rate limit, bad URL), Engine.IO's long-polling and WebSocket
 * answers and refusals, and Node's own 400/408/417/431 — over HTTP and TLS.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_TOKENS, startCore } from '../helpers/core'
import { rawConnection, rawRequest, upgradeRequest, type RawResponse } from '../helpers/raw-http'
import { selfSignedCert } from '../helpers/tls'
import { securityHeaderProblems } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const EVIL = 'https://evil.example'
const ALLOWED = 'https://monitor.example'
const viewer = { authorization: `Bearer ${TEST_TOKENS.viewer}` }

function rendererDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sm-renderer-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title><script src="app.js"></script>')
  writeFileSync(join(dir, 'app.js'), 'console.log(1)\n')
  return dir
}

/** Status and header problems of a fetch answer. */
async function viaFetch(url: string, init: RequestInit = {}): Promise<{ status: number; problems: string[] }> {
  const response = await fetch(url, { ...init, redirect: 'manual' })
  await response.arrayBuffer()
  return { status: response.status, problems: securityHeaderProblems((name) => response.headers.get(name)) }
}

const ofRaw = (response: RawResponse, tls = false) => ({
  status: response.status,
  problems: securityHeaderProblems((name) => response.headers[name], tls),
})

/** Opens an Engine.IO long-polling session by hand; resolves with its sid. */
async function pollingSession(url: string): Promise<string> {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`)
  const text = await response.text()
  return (JSON.parse(text.slice(1)) as { sid: string }).sid
}

describe('security headers on every answer', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(
      ['--no-demo', '--allow-origin', ALLOWED],
      { limits: { httpPerMinute: 2, headersTimeoutMs: 500, requestTimeoutMs: 1000 } },
      rendererDir(),
    )
  })
  afterAll(() => core.stop())

  it('from Fastify: routes, static files, 304, HEAD, OPTIONS, and every error status', async () => {
    const cases: [string, string, RequestInit, number][] = [
      ['health', '/healthz', {}, 200],
      ['HEAD', '/healthz', { method: 'HEAD' }, 200],
      ['dashboard page', '/', {}, 200],
      ['static file', '/app.js', {}, 200],
      ['metrics', '/metrics', { headers: viewer }, 200],
      ['no token', '/api/snapshot', {}, 401],
      ['agent token', '/api/snapshot', { headers: { authorization: `Bearer ${TEST_TOKENS.agent}` } }, 403],
      ['evil Origin, refused before any route', '/healthz', { headers: { origin: EVIL } }, 403],
      ['evil Origin preflight', '/api/tasks', { method: 'OPTIONS', headers: { origin: EVIL } }, 403],
      [
        'allowed preflight',
        '/api/tasks',
        { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } },
        204,
      ],
      ['undecodable URL', '/api/tasks/%', { headers: viewer }, 400],
      ['no such route', '/no/such/route', {}, 404],
      ['a method no route has', '/api/tasks', { method: 'DELETE', headers: viewer }, 404],
      [
        'body too large',
        '/api/tasks',
        {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_TOKENS.operator}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'a', kind: 'report', payload: { blob: 'x'.repeat(70_000) } }),
        },
        413,
      ],
    ]
    for (const [what, path, init, status] of cases) {
      expect({ what, ...(await viaFetch(`${core.url}${path}`, init)) }).toEqual({ what, status, problems: [] })
    }
    // (fetch asks past caches, so the conditional request goes by hand.)
    const etag = (await fetch(`${core.url}/app.js`)).headers.get('etag')
    expect(etag).toBeTruthy()
    const notModified = await rawRequest(core.url, `GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${etag}\r\n\r\n`)
    expect({ what: '304', ...ofRaw(notModified) }).toEqual({ what: '304', status: 304, problems: [] })
  })

  it('from the rate limit (429)', async () => {
    // From loopback with X-Forwarded-For: a remote client as a local proxy speaks for it, so it is counted.
    const remote = { ...viewer, 'x-forwarded-for': '203.0.113.9' }
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const answer = await viaFetch(`${core.url}/api/agents`, { headers: remote })
      statuses.push(answer.status)
      expect(answer.problems).toEqual([])
    }
    expect(statuses).toEqual([200, 200, 429])
  })

  it('from Engine.IO long-polling: handshake, GET, POST, unknown session, refused Origin', async () => {
    const handshake = await viaFetch(`${core.url}/socket.io/?EIO=4&transport=polling`)
    expect(handshake).toEqual({ status: 200, problems: [] })
    const sid = await pollingSession(core.url)
    const session = `${core.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`
    const post = await viaFetch(session, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: `40/dashboard,${JSON.stringify({ token: TEST_TOKENS.viewer })}`,
    })
    expect(post).toEqual({ status: 200, problems: [] })
    expect(await viaFetch(session)).toEqual({ status: 200, problems: [] })
    const unknown = await viaFetch(`${core.url}/socket.io/?EIO=4&transport=polling&sid=nosuchsession`)
    expect(unknown).toEqual({ status: 400, problems: [] })
    const evil = await viaFetch(`${core.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: EVIL } })
    expect(evil).toEqual({ status: 403, problems: [] })
  })

  it('from WebSocket upgrades: the 101, and the refusals Engine.IO and ws write to the socket', async () => {
    const path = '/socket.io/?EIO=4&transport=websocket'
    const upgraded = await rawConnection(core.url)
    upgraded.write(upgradeRequest(path))
    expect(ofRaw(await upgraded.response())).toEqual({ status: 101, problems: [] })
    upgraded.socket.destroy()
    for (const [what, request] of [
      ['evil Origin', upgradeRequest(path, { Origin: EVIL })],
      ['unknown session', upgradeRequest(`${path}&sid=nosuchsession`)],
      ['bad WebSocket version', upgradeRequest(path, { 'Sec-WebSocket-Version': '7' })],
    ] as const) {
      const refused = await rawRequest(core.url, request)
      expect({ what, ...ofRaw(refused) }).toEqual({ what, status: 400, problems: [] })
    }
  })

  it('from Node itself: a malformed request (400), headers too large (431), an unknown Expect (417), too slow (408)', async () => {
    const malformed = await rawRequest(core.url, 'NOT HTTP AT ALL\r\n\r\n')
    expect(ofRaw(malformed)).toEqual({ status: 400, problems: [] })
    const huge = await rawRequest(core.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(ofRaw(huge)).toEqual({ status: 431, problems: [] })
    const expect417 = await rawRequest(core.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n')
    expect(ofRaw(expect417)).toEqual({ status: 417, problems: [] })
    const slow = await rawConnection(core.url)
    slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n')
    const timedOut = await slow.response(5000)
    expect(ofRaw(timedOut)).toEqual({ status: 408, problems: [] })
    expect(JSON.parse(timedOut.body)).toMatchObject({ error: { code: 'bad_request', message: /in time/ } })
  })
})

describe('security headers over TLS', () => {
  let core: TestCore
  let cert: ReturnType<typeof selfSignedCert>
  beforeAll(async () => {
    cert = selfSignedCert()
    core = await startCore(['--no-demo', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile])
  })
  afterAll(() => core.stop())

  it('carry HSTS on Fastify, Engine.IO and raw answers alike', async () => {
    const get = (path: string, extra = '') =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`
    const cases: [string, string, number][] = [
      ['health', get('/healthz'), 200],
      ['undecodable URL', get('/api/tasks/%'), 400],
      ['evil Origin', get('/healthz', `Origin: ${EVIL}\r\n`), 403],
      ['polling handshake', get('/socket.io/?EIO=4&transport=polling'), 200],
      ['refused upgrade', upgradeRequest('/socket.io/?EIO=4&transport=websocket', { Origin: EVIL }), 400],
      ['malformed', 'NOT HTTP AT ALL\r\n\r\n', 400],
    ]
    for (const [what, request, status] of cases) {
      const response = await rawRequest(core.url, request, { ca: cert.cert })
      expect({ what, ...ofRaw(response, true) }).toEqual({ what, status, problems: [] })
    }
  })
})
