/**
 * deploy/cluster/nginx.conf and deploy/cluster/haproxy.cfg, the shipped files
 * (ports, nodes and certificate substituted), in a real nginx and a real
 * HAProxy in front of three real node processes of the built CLI on a real
 * Redis and PostgreSQL. Through each proxy, over TLS: /healthz names a node;
 * long-polling sessions stay on their node for many requests (sticky), and
 * the same file without its sticky line is shown to break them ("Session ID
 * unknown"); polling-only viewers spread over the nodes receive every task
 * submitted through the proxy, without a disconnect; a WebSocket viewer with
 * a browser's Origin works; the HTTP API answers 201 whichever node it hits;
 * HAProxy's agents port reaches the leader only. Last, a follower killed: its
 * clients reach the other nodes, the others' clients stay where they were.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import { TEST_TOKENS, TOKEN_ENV } from '../helpers/core'
import { agreedLeader, startNodes, stopNodes, type ClusterNode } from '../helpers/cluster-nodes'
import {
  clusterHaproxyConfig,
  clusterNginxSite,
  findHaproxy,
  startHaproxy,
  type HaproxyPorts,
  type RunningHaproxy,
} from '../helpers/cluster-proxy'
import { findNginx, startNginx, type RunningNginx } from '../helpers/nginx'
import { freePort } from '../helpers/ports'
import { postgresForSuite } from '../helpers/postgres-suite'
import {
  allPushed,
  connectViewer,
  cookieOf,
  httpsRequest,
  pollingExchange,
  registerAgent,
  type Viewer,
} from '../helpers/proxy-clients'
import { startRedis, type Redis } from '../helpers/redis'
import { selfSignedCert, type TestCert } from '../helpers/tls'

const pg = postgresForSuite()
let redis: Redis
let dir: string
let nodes: ClusterNode[]
let leader: string
let cert: TestCert
const nginx = { tls: 0, redirect: 0 }
const roundRobin = { tls: 0, redirect: 0 }
const haproxy: HaproxyPorts = { https: 0, http: 0, agents: 0 }
const proxies: { stop(): Promise<void> }[] = []
let nginxRun: RunningNginx<typeof nginx>
let haproxyRun: RunningHaproxy

beforeAll(async () => {
  findNginx() // fails here, naming the package, when one is missing
  findHaproxy()
  redis = await startRedis()
  const { url: database } = await pg().createDatabase()
  dir = mkdtempSync(join(tmpdir(), 'sm-cluster-proxy-'))
  cert = selfSignedCert(dir)
  const pem = join(dir, 'haproxy.pem')
  writeFileSync(pem, cert.cert + readFileSync(cert.keyFile, 'utf8'))
  for (const ports of [nginx, roundRobin]) Object.assign(ports, { tls: await freePort(), redirect: await freePort() })
  Object.assign(haproxy, { https: await freePort(), http: await freePort(), agents: await freePort() })
  // Behind TLS termination the browser's origin is the proxy's https one: allowed explicitly (docs/deployment.md).
  const origins = [nginx.tls, haproxy.https].flatMap((port) => ['--allow-origin', `https://127.0.0.1:${port}`])
  nodes = await startNodes({
    ids: ['px-1', 'px-2', 'px-3'],
    redis: redis.url,
    database,
    dir,
    args: ['--no-demo', '--local-agents', '0', '--log-level', 'warn', ...origins],
    env: TOKEN_ENV,
  })
  leader = await agreedLeader(nodes, TEST_TOKENS.viewer)
  const ports = nodes.map((node) => node.port)
  nginxRun = await startNginx(clusterNginxSite(ports, nginx, cert), nginx)
  proxies.push(nginxRun)
  proxies.push(await startNginx(clusterNginxSite(ports, roundRobin, cert, { sticky: false }), roundRobin))
  haproxyRun = await startHaproxy(clusterHaproxyConfig(ports, haproxy, pem), Object.values(haproxy))
  proxies.push(haproxyRun)
}, 60_000)

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.stop()))
  if (nodes) await stopNodes(nodes)
  await redis?.destroy()
  if (dir) rmSync(dir, { recursive: true, force: true })
}, 30_000)

const open: Viewer[] = []
afterEach(() => {
  for (const viewer of open.splice(0)) viewer.socket.disconnect()
})

/** 127.0.0.2, 127.0.0.3, …: distinct clients for a proxy that hashes addresses. */
const addresses = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 2}`)
const base = (port: number) => `https://127.0.0.1:${port}`

async function healthOf(port: number, address: string, headers: Record<string, string> = {}) {
  const answer = await httpsRequest(cert.cert, `${base(port)}/healthz`, 'GET', null, { address, headers })
  expect(answer.status).toBe(200)
  return { answer, node: (JSON.parse(answer.body) as { node: { id: string; role: string } }).node }
}

/** How many nodes report viewers, once they report `total` in all (each node reports its own every second). */
async function nodesWithViewers(total: number): Promise<number> {
  const deadline = Date.now() + 5_000
  let count = 0
  let sum = 0
  do {
    await new Promise((resolve) => setTimeout(resolve, 250))
    const response = await fetch(`${nodes[0]!.url}/api/cluster`, {
      headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` },
    })
    const info = (await response.json()) as { nodes: { viewers: number; gone?: boolean }[] }
    const live = info.nodes.filter((node) => !node.gone)
    count = live.filter((node) => node.viewers > 0).length
    sum = live.reduce((all, node) => all + node.viewers, 0)
  } while ((sum !== total || count < 2) && Date.now() < deadline)
  expect(sum).toBe(total)
  return count
}

async function submit(port: number, name: string, address = '127.0.0.1'): Promise<string> {
  const headers = { authorization: `Bearer ${TEST_TOKENS.operator}`, 'content-type': 'application/json' }
  const body = JSON.stringify({ name, kind: 'report' })
  const answer = await httpsRequest(cert.cert, `${base(port)}/api/tasks`, 'POST', body, { address, headers })
  expect(answer.status, answer.body).toBe(201)
  return (JSON.parse(answer.body) as Task).id
}

/** Polling-only viewers (one per address), tasks submitted meanwhile through the proxy: all pushed, nothing dropped. */
async function pollingViewersReceiveEverything(port: number, extra: Record<string, unknown> = {}) {
  const viewers = await Promise.all(
    addresses
      .slice(0, 6)
      .map((address) => connectViewer(cert.cert, base(port), { transports: ['polling'], address, ...extra })),
  )
  open.push(...viewers)
  // On more than one node: followers serve them from the leader's stream.
  expect(await nodesWithViewers(viewers.length)).toBeGreaterThan(1)
  const ids: string[] = []
  for (let i = 0; i < 6; i += 1) {
    ids.push(await submit(port, `polled ${i}`, addresses[i]))
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  await allPushed(viewers, ids)
  for (const viewer of viewers) {
    expect(viewer.troubles).toEqual([])
    expect(viewer.socket.connected).toBe(true)
    expect(viewer.socket.io.engine.transport.name).toBe('polling')
    // Each push ended a long-poll and the client sent the next one: many requests on one session.
    expect(viewer.polls()).toBeGreaterThanOrEqual(4)
  }
}

async function webSocketViewerWorks(port: number) {
  const viewer = await connectViewer(cert.cert, base(port), {
    transports: ['websocket'],
    extraHeaders: { origin: base(port) },
  })
  open.push(viewer)
  const id = await submit(port, 'over websocket')
  await allPushed([viewer], [id])
  expect(viewer.socket.io.engine.transport.name).toBe('websocket')
}

describe('deploy/cluster/nginx.conf in nginx, before three nodes', () => {
  it('answers /healthz naming a node, the same one for the same client address, spreading addresses', async () => {
    const seen = new Map<string, string>()
    for (const address of addresses) {
      const first = await healthOf(nginx.tls, address)
      expect(nodes.map((node) => node.id)).toContain(first.node.id)
      expect(first.node.role).toBe(first.node.id === leader ? 'leader' : 'follower')
      for (let i = 0; i < 3; i += 1) expect((await healthOf(nginx.tls, address)).node.id).toBe(first.node.id)
      seen.set(address, first.node.id)
    }
    expect(new Set(seen.values()).size).toBeGreaterThan(1)
    const redirect = await fetch(`http://127.0.0.1:${nginx.redirect}/healthz`, { redirect: 'manual' })
    expect(redirect.status).toBe(301)
  })

  it('keeps a long-polling session on its node; without the hash line, nginx breaks it ("Session ID unknown")', async () => {
    const sticky = await pollingExchange(cert.cert, base(nginx.tls), 12, { address: addresses[0] })
    expect(sticky.answers.map((answer) => `${answer.status} ${answer.body}`)).toEqual(Array(12).fill('200 ok'))
    const loose = await pollingExchange(cert.cert, base(roundRobin.tls), 12, { address: addresses[0] })
    const refused = loose.answers.filter((answer) => answer.status === 400)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused[0]!.body).toContain('Session ID unknown')
  })

  it('pushes every task to polling-only viewers on every node, with no disconnect', async () => {
    await pollingViewersReceiveEverything(nginx.tls)
  })

  it('serves a WebSocket viewer with a browser Origin', async () => {
    await webSocketViewerWorks(nginx.tls)
  })

  it('takes submissions through any node: 201 from the leader and from followers alike', async () => {
    const byNode = new Map<string, string>()
    for (const address of addresses) byNode.set((await healthOf(nginx.tls, address)).node.id, address)
    expect([...byNode.keys()]).toContain(leader)
    for (const [, address] of byNode) await submit(nginx.tls, `via ${address}`, address)
  })
})

describe('deploy/cluster/haproxy.cfg in HAProxy, before three nodes', () => {
  it('answers /healthz naming a node; its SERVERID cookie keeps the client there', async () => {
    const first = await healthOf(haproxy.https, '127.0.0.1')
    const cookie = [first.answer.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0]
    // The cookie names the server line (node-1…3 in the file), not the node's id.
    expect(cookie).toMatch(/^SERVERID=node-[123]$/)
    for (let i = 0; i < 4; i += 1) {
      expect((await healthOf(haproxy.https, '127.0.0.1', { cookie: cookie! })).node.id).toBe(first.node.id)
    }
    const fresh = new Set<string>()
    for (let i = 0; i < 3; i += 1) fresh.add((await healthOf(haproxy.https, '127.0.0.1')).node.id)
    expect(fresh.size).toBe(3) // round robin for new clients
    const redirect = await fetch(`http://127.0.0.1:${haproxy.http}/healthz`, { redirect: 'manual' })
    expect(redirect.status).toBe(301)
  })

  it('keeps a long-polling session on its node by the cookie; a client without it meets "Session ID unknown"', async () => {
    const sticky = await pollingExchange(cert.cert, base(haproxy.https), 12, { keepCookie: 'SERVERID' })
    expect(sticky.answers.map((answer) => `${answer.status} ${answer.body}`)).toEqual(Array(12).fill('200 ok'))
    const loose = await pollingExchange(cert.cert, base(haproxy.https), 12, {})
    const refused = loose.answers.filter((answer) => answer.status === 400)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused[0]!.body).toContain('Session ID unknown')
  })

  it('pushes every task to polling-only viewers (cookies kept, as browsers do) on every node', async () => {
    await pollingViewersReceiveEverything(haproxy.https, { withCredentials: true })
  })

  it('serves a WebSocket viewer with a browser Origin', async () => {
    await webSocketViewerWorks(haproxy.https)
  })

  it('takes submissions on any node, and sends agents to the leader only', async () => {
    for (let i = 0; i < 3; i += 1) await submit(haproxy.https, `haproxy ${i}`)
    // The agents' frontend: every answer comes from the leader (HAProxy's checks may take a second at start).
    const deadline = Date.now() + 5_000
    let roles: string[] = []
    do {
      roles = []
      for (let i = 0; i < 6; i += 1) roles.push((await healthOf(haproxy.agents, '127.0.0.1')).node.id)
    } while (roles.some((id) => id !== leader) && Date.now() < deadline)
    expect(roles).toEqual(Array(6).fill(leader))
    // A real agent through it: registered by the leader (a follower would refuse it with `unavailable`).
    const registered = await registerAgent(cert.cert, base(haproxy.agents), 'via-haproxy')
    expect(registered).toEqual({ ok: true })
  })
})

describe('when a follower dies (kill -9)', () => {
  it('sends its clients to the other nodes: nginx by the next server, HAProxy by redispatching the cookie', async () => {
    const follower = nodes.find((node) => node.id !== leader)!
    const byAddress = new Map<string, string>()
    for (const address of addresses) byAddress.set(address, (await healthOf(nginx.tls, address)).node.id)
    const itsClients = addresses.filter((address) => byAddress.get(address) === follower.id)
    expect(itsClients.length).toBeGreaterThan(0)
    // Its cookie, as HAProxy set it for a client it sent there.
    let cookie: string | null = null
    for (let i = 0; i < 3 && cookie === null; i += 1) {
      const { answer, node } = await healthOf(haproxy.https, '127.0.0.1')
      if (node.id === follower.id) cookie = cookieOf(answer, 'SERVERID')
    }
    expect(cookie).not.toBeNull()

    follower.child.kill('SIGKILL')
    await new Promise((resolve) => follower.child.once('exit', resolve))
    for (const address of itsClients) {
      const { node } = await healthOf(nginx.tls, address)
      expect(node.id).not.toBe(follower.id)
    }
    // The addresses of the other nodes stay where they were (consistent hashing).
    for (const address of addresses.filter((address) => !itsClients.includes(address))) {
      expect((await healthOf(nginx.tls, address)).node.id).toBe(byAddress.get(address))
    }
    const { node } = await healthOf(haproxy.https, '127.0.0.1', { cookie: cookie! })
    expect(node.id).not.toBe(follower.id)
    await submit(nginx.tls, 'after a follower died', itsClients[0])
  })
})
