/**
 * deploy/nginx/swarm-monitor.conf in a real nginx (Debian's nginx-light): TLS
 * termination, push over WebSocket through it, long-polling when a proxy
 * does not pass upgrades, and what the core makes of proxied clients.
 */
import { taskStatusOf } from '../../src/shared/changes'
import { request } from 'node:https'
import { io, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DomainEvent } from '../../src/shared/events'
import type { Task } from '../../src/shared/domain'
import { TEST_TOKENS, postJson, startCore } from '../helpers/core'
import { findNginx, nginxPorts, siteConfig, startNginx, type NginxPorts, type RunningNginx } from '../helpers/nginx'
import { selfSignedCert, type TestCert } from '../helpers/tls'

type TestCore = Awaited<ReturnType<typeof startCore>>

let core: TestCore
let nginx: RunningNginx
let ports: NginxPorts
let cert: TestCert

beforeAll(async () => {
  findNginx() // fails here, naming the package, when nginx is missing
  cert = selfSignedCert()
  ports = await nginxPorts()
  // Behind TLS termination the browser's origin is the proxy's https one: allowed explicitly (docs/deployment.md).
  core = await startCore(['--no-demo', '--allow-origin', `https://127.0.0.1:${ports.tls}`])
  nginx = await startNginx(siteConfig(Number(new URL(core.url).port), ports, cert), ports)
}, 30_000)

afterAll(async () => {
  await nginx?.stop()
  await core?.stop()
})

const sockets: Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

function viewer(url: string, options: Parameters<typeof io>[1] = {}): Socket {
  const socket = io(`${url}/dashboard`, {
    auth: { token: TEST_TOKENS.viewer },
    reconnection: false,
    forceNew: true,
    ...options,
  })
  sockets.push(socket)
  return socket
}

function snapshotOf(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('snapshot', () => resolve())
    socket.once('connect_error', (error) => reject(new Error(`through nginx: ${error.message}\n${nginx.output()}`)))
  })
}

/** Submits a task straight to the core and resolves when `socket` is pushed its queued state. */
async function pushed(socket: Socket): Promise<void> {
  const seen = new Set<string>()
  socket.on('events', (events: DomainEvent[]) => {
    for (const event of events) {
      const reported = taskStatusOf(event)
      if (reported) seen.add(reported.taskId)
    }
  })
  const created = await postJson(`${core.url}/api/tasks`, { name: 'via proxy', kind: 'report' }, TEST_TOKENS.operator)
  const id = (created.body as Task).id
  const started = Date.now()
  while (!seen.has(id)) {
    if (Date.now() - started > 5000) throw new Error(`task ${id} was not pushed through nginx within 5 s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function httpsGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: cert.cert, headers }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('through nginx with TLS termination', () => {
  const tls = () => `https://127.0.0.1:${ports.tls}`

  it('serves the API over HTTPS and redirects plain HTTP there', async () => {
    expect(await httpsGet(`${tls()}/healthz`)).toMatchObject({ status: 200 })
    expect(await httpsGet(`${tls()}/api/snapshot`, { authorization: `Bearer ${TEST_TOKENS.viewer}` })).toMatchObject({
      status: 200,
    })
    const redirect = await fetch(`http://127.0.0.1:${ports.redirect}/`, { redirect: 'manual' })
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toMatch(/^https:\/\//)
  })

  it('pushes updates over a WebSocket (WSS)', async () => {
    const socket = viewer(tls(), { transports: ['websocket'], ca: cert.cert })
    await snapshotOf(socket)
    expect(socket.io.engine.transport.name).toBe('websocket')
    await pushed(socket)
  })

  it('upgrades a default client from long-polling to WebSocket', async () => {
    const socket = viewer(tls(), { ca: cert.cert })
    await snapshotOf(socket)
    if (socket.io.engine.transport.name !== 'websocket') {
      await new Promise<void>((resolve, reject) => {
        socket.io.engine.once('upgrade', () => resolve())
        socket.io.engine.once('upgradeError', (error: Error) => reject(error))
      })
    }
    await pushed(socket)
    expect(socket.io.engine.transport.name).toBe('websocket')
  })

  it('admits the public origin given with --allow-origin, and no other', async () => {
    const own = viewer(tls(), { transports: ['websocket'], ca: cert.cert, extraHeaders: { origin: tls() } })
    await snapshotOf(own)
    const evil = viewer(tls(), {
      transports: ['websocket'],
      ca: cert.cert,
      extraHeaders: { origin: 'https://evil.example' },
    })
    await expect(snapshotOf(evil)).rejects.toThrow()
  })

  it('makes proxied operators remote: no shell tasks through the proxy', async () => {
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${tls()}/api/tasks`,
        {
          method: 'POST',
          ca: cert.cert,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS.operator}` },
        },
        (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => (body += chunk.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      req.end(JSON.stringify({ name: 'sh', kind: 'shell', payload: { command: 'true' } }))
    })
    expect(response.status).toBe(403)
    expect(response.body).toContain('--allow-remote-shell')
  })
})

describe('through a proxy that does not pass WebSocket upgrades', () => {
  const stripped = () => `http://127.0.0.1:${ports.noUpgrade}`

  it('keeps a default client on long-polling, and it still gets push updates', async () => {
    const socket = viewer(stripped())
    await snapshotOf(socket)
    // The upgrade probe fails behind this proxy (at once: a 400); the client stays where it is.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(socket.io.engine.transport.name).toBe('polling')
    await pushed(socket)
    expect(socket.io.engine.transport.name).toBe('polling')
  })

  it('lets a WebSocket-first client fall back to long-polling', async () => {
    const socket = viewer(stripped(), { transports: ['websocket', 'polling'], tryAllTransports: true })
    await snapshotOf(socket)
    expect(socket.io.engine.transport.name).toBe('polling')
    await pushed(socket)
  })

  it('and a WebSocket-only client is refused, as it should be without upgrades', async () => {
    const socket = viewer(stripped(), { transports: ['websocket'] })
    await expect(snapshotOf(socket)).rejects.toThrow(/websocket error/)
  })

  it('the same location block with the upgrade headers carries WebSocket in plain HTTP too', async () => {
    const socket = viewer(`http://127.0.0.1:${ports.plain}`, { transports: ['websocket'] })
    await snapshotOf(socket)
    await pushed(socket)
  })
})
