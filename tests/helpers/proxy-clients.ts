/**
 * Clients of a proxy in front of cluster nodes, over TLS with the test's own
 * certificate: HTTPS requests and Socket.IO viewers that can come from a given
 * loopback address (Linux answers on all of 127.0.0.0/8, so one machine plays
 * many client addresses for a proxy that hashes them), raw engine.io polling
 * requests, and a viewer's record of the tasks it was pushed.
 */
import { Agent, request } from 'node:https'
import { io, type Socket } from 'socket.io-client'
import { taskStatusOf } from '../../src/shared/changes'
import type { DomainEvent } from '../../src/shared/events'
import type { AgentsClientToServer, AgentsServerToClient, Welcome } from '../../src/shared/protocol'
import { TEST_TOKENS } from './core'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface From {
  /** The client's loopback address (default 127.0.0.1). */
  address?: string
  headers?: Record<string, string>
}

/** One HTTPS request trusting `ca`, from `from.address`, on a fresh connection (no keep-alive between tests). */
export function httpsRequest(
  ca: string,
  url: string,
  method = 'GET',
  body: string | null = null,
  from: From = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const agent = new Agent({ ca, localAddress: from.address ?? '127.0.0.1', keepAlive: false })
    const headers = { ...from.headers, ...(body === null ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }
    const req = request(url, { method, agent, headers }, (response) => {
      let text = ''
      response.on('data', (chunk: Buffer) => (text += chunk.toString()))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)))
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}

/** The `name=value` of a `Set-Cookie`, or null. */
export function cookieOf(answer: Answer, name: string): string | null {
  const cookies = [answer.headers['set-cookie'] ?? []].flat()
  return cookies.map((line) => line.split(';')[0]!).find((pair) => pair.startsWith(`${name}=`)) ?? null
}

/**
 * Opens an engine.io long-polling session (the handshake) and sends `count` more requests on it,
 * one after another, as a polling client does; resolves with their statuses and bodies.
 * Each is a POST of a `noop` packet (`6`), which the server answers at once with `ok` — a GET
 * would be held up to 25 s waiting for something to send.
 */
export async function pollingExchange(
  ca: string,
  base: string,
  count: number,
  from: From & { keepCookie?: string },
): Promise<{ handshake: Answer; answers: Answer[] }> {
  const path = `${base}/socket.io/?EIO=4&transport=polling`
  const handshake = await httpsRequest(ca, path, 'GET', null, from)
  const sid = (JSON.parse(handshake.body.slice(1)) as { sid: string }).sid
  const cookie = from.keepCookie ? cookieOf(handshake, from.keepCookie) : null
  const headers = { ...from.headers, 'content-type': 'text/plain', ...(cookie ? { cookie } : {}) }
  const answers: Answer[] = []
  for (let i = 0; i < count; i += 1) {
    answers.push(await httpsRequest(ca, `${path}&sid=${sid}`, 'POST', '6', { ...from, headers }))
  }
  return { handshake, answers }
}

export interface Viewer {
  socket: Socket
  welcome: Welcome
  /** Ids of the tasks whose status it was pushed. */
  tasks: Set<string>
  /** Every disconnect and connection error it met, in order. */
  troubles: string[]
  /** Long-polling requests its transport completed (0 on WebSocket). */
  polls(): number
}

/** Connects a viewer with `options` (transports, extraHeaders…) and resolves once it has its snapshot. */
export function connectViewer(
  ca: string,
  base: string,
  options: Parameters<typeof io>[1] & { address?: string },
): Promise<Viewer> {
  const { address, ...rest } = options
  const agent = new Agent({ ca, localAddress: address ?? '127.0.0.1' })
  const socket = io(`${base}/dashboard`, {
    auth: { token: TEST_TOKENS.viewer },
    reconnection: false,
    forceNew: true,
    ca,
    // Typed `string | boolean` by socket.io-client; both transports hand it to Node as the http(s) agent.
    agent: agent as unknown as string,
    ...rest,
  })
  const tasks = new Set<string>()
  const troubles: string[] = []
  let polls = 0
  socket.on('events', (events: DomainEvent[]) => {
    for (const event of events) {
      const status = taskStatusOf(event)
      if (status) tasks.add(status.taskId)
    }
  })
  socket.on('disconnect', (reason) => troubles.push(`disconnect: ${reason}`))
  socket.io.on('open', () => socket.io.engine.transport.on('poll', () => (polls += 1)))
  return new Promise((resolve, reject) => {
    let welcome: Welcome | null = null
    socket.once('welcome', (value: Welcome) => (welcome = value))
    socket.once('snapshot', () => resolve({ socket, welcome: welcome!, tasks, troubles, polls: () => polls }))
    socket.once('connect_error', (error) => {
      troubles.push(`connect_error: ${error.message}`)
      reject(new Error(`viewer through ${base}: ${error.message}`))
    })
  })
}

/** Waits until every viewer was pushed every task, or fails naming what is missing. */
export async function allPushed(viewers: readonly Viewer[], taskIds: readonly string[], timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const missing = viewers.map((viewer) => taskIds.filter((id) => !viewer.tasks.has(id)))
    if (missing.every((ids) => ids.length === 0)) return
    if (Date.now() > deadline) throw new Error(`tasks not pushed to every viewer: ${JSON.stringify(missing)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Connects an agent over WebSocket to `base`, registers it as `id`, disconnects; resolves with the server's answer. */
export async function registerAgent(
  ca: string,
  base: string,
  id: string,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const agent: Socket<AgentsServerToClient, AgentsClientToServer> = io(`${base}/agents`, {
    auth: { token: TEST_TOKENS.agent },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ca,
  })
  try {
    await new Promise<void>((resolve, reject) => {
      agent.once('connect', () => resolve())
      agent.once('connect_error', reject)
    })
    const answer = await agent.emitWithAck('agent:register', { id, name: id, capabilities: [] })
    return answer.ok ? { ok: true } : { ok: false, error: answer.error.message }
  } finally {
    agent.disconnect()
  }
}
