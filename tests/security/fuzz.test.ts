/**
 * Hostile input, generated: random and malformed payloads (wrong types, huge
 * strings, deep nesting, prototype-pollution keys, missing and non-function
 * acks) to every Socket.IO event on both namespaces and every HTTP route,
 * with each role and without a token. Afterwards the server answers, and the
 * swarm (agents and tasks, heartbeats aside) is what it was.
 *
 * Payloads for commands that change the swarm are built to be invalid (a
 * valid one changing the swarm would be no finding), so any `ok: true` from
 * such a command is a validation gap and fails the test.
 */
import fc from 'fast-check'
import { io, type Socket } from 'socket.io-client'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERROR_CODES, type Result } from '../../src/shared/result'
import type { Task } from '../../src/shared/domain'
import { closeAgents, rawAgent } from '../helpers/agents'
import { TEST_TOKENS, postJson, startCore, until } from '../helpers/core'
import { healthy, swarmState, type SwarmState } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const RUNS = Number(process.env.FUZZ_RUNS ?? 150)
const ACK_TIMEOUT_MS = 3000
/** Room for big runs (FUZZ_RUNS=3000 takes a minute here). */
const TIMEOUT_MS = 20_000 + RUNS * 40
const AGENT_ID = 'fixture-agent'

// --- values ---------------------------------------------------------------

const nest = (depth: number): unknown => {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { n: value }
  return value
}

/** An object with an own property of any name, `__proto__` included (as JSON.parse makes them). */
const withOwnKey = (base: object, key: string, value: unknown): Record<string, unknown> => {
  const copy: Record<string, unknown> = { ...base }
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true })
  return copy
}

const pollution = fc.constantFrom(
  JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown,
  JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}') as unknown,
  JSON.parse('{"taskId": "x", "__proto__": {"isAdmin": true}}') as unknown,
  JSON.parse('{"agentId": "x", "__proto__": null}') as unknown,
)

const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.integer({ min: 33, max: 3000 }).map(nest),
  pollution,
)

/** Anything a client could send. Sizes stay under the 64 KiB message limit (tested apart: it closes the link). */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(null, true, 0, -1, 1e308, '', [], {}, '__proto__', 'constructor'),
  fc.constant('x'.repeat(15_000)),
  notAString,
)

/** A value that no string field of ours accepts. */
const badString = fc.oneof(notAString, fc.constant(''), fc.constant('y'.repeat(20_000)))

/**
 * Invalid versions of a valid payload: one field replaced by a value it
 * refuses, one required field missing, or one field too many (the schemas are strict).
 */
function broken(
  base: Record<string, unknown>,
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: string[] = Object.keys(fields),
): fc.Arbitrary<unknown> {
  const keys = Object.keys(fields)
  return fc.oneof(
    fc.constantFrom(...keys).chain((key) => fields[key]!.map((value) => ({ ...base, [key]: value }))),
    fc.constantFrom(...required).map((key) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key))),
    fc
      .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'isAdmin', 'extra'), junk)
      .map(([key, value]) => withOwnKey(base, key, value)),
  )
}

// --- the server under fire ------------------------------------------------

let core: TestCore
let before: SwarmState
let queuedId: string
let heldId: string
let agentSocket: Socket

beforeAll(async () => {
  // Limits out of the way, so hostile messages reach the handlers (the limits have their own tests).
  // The fixture agent sends no heartbeats of its own: it must not go offline during long runs (FUZZ_RUNS).
  core = await startCore(['--no-demo'], {
    limits: { socketPerSecond: 1e6, socketBurst: 1e6, httpPerMinute: 1e6 },
    agentHeartbeatTimeoutMs: 3_600_000,
  })
  agentSocket = rawAgent(core.url) as unknown as Socket
  const assigned = new Promise<string>((resolve) =>
    agentSocket.once('task:assign', ({ task }: { task: Task }) => resolve(task.id)),
  )
  await agentSocket.emitWithAck('agent:register', { id: AGENT_ID, name: 'fixture', capabilities: ['fixture'] })
  const held = await postJson(
    `${core.url}/api/tasks`,
    { name: 'held', kind: 'fixture', capabilities: ['fixture'] },
    TEST_TOKENS.operator,
  )
  heldId = (held.body as Task).id
  expect(await assigned).toBe(heldId)
  const queued = await postJson(
    `${core.url}/api/tasks`,
    { name: 'waits', kind: 'report', capabilities: ['nobody-has-this'] },
    TEST_TOKENS.operator,
  )
  queuedId = (queued.body as Task).id
  await until(() => core.coordinator.getTask(heldId)?.status === 'assigned', 2000, 'the fixture task assigned')
  before = await swarmState(core.url)
})

afterAll(async () => {
  await closeAgents()
  await core?.stop()
})

function dashboard(token: string): Promise<Socket> {
  const socket = io(`${core.url}/dashboard`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  })
  return new Promise((resolve, reject) => {
    socket.once('snapshot', () => resolve(socket))
    socket.once('connect_error', reject)
  })
}

/** A clear refusal: `{ ok: false, error: { code, message } }` with a known code and words in it. */
function expectClearAnswer(answer: unknown, what: string): asserts answer is Result<unknown> {
  expect(answer, what).toMatchObject({ ok: expect.any(Boolean) })
  const result = answer as Result<unknown>
  if (!result.ok) {
    expect(ERROR_CODES, what).toContain(result.error.code)
    expect(typeof result.error.message === 'string' && result.error.message.length > 0, what).toBe(true)
  }
}

type AckMode = 'ack' | 'none' | 'not-a-function'
const ackMode = fc.constantFrom<AckMode>('ack', 'ack', 'ack', 'none', 'not-a-function')

/** Oversized messages close the connection by design (limits.test.ts); here they are left out. */
const fits = (args: unknown[]) => Buffer.byteLength(JSON.stringify(args) ?? '') < 60_000

/** Sends one message the way `mode` says; resolves with the answer, or null when none was asked for. */
async function send(socket: Socket, event: string, args: unknown[], mode: AckMode): Promise<unknown> {
  fc.pre(fits(args))
  if (mode === 'none') {
    socket.emit(event, ...args)
    return null
  }
  if (mode === 'not-a-function') {
    socket.emit(event, ...args, 42)
    return null
  }
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, ...args)
}

async function stillAnswers(socket: Socket): Promise<void> {
  expect(socket.connected, 'the fuzzing connection is still open').toBe(true)
  const answer = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('ping')) as Result<unknown>
  expect(answer.ok).toBe(true)
}

// --- the properties -------------------------------------------------------

describe('fuzzing /dashboard', () => {
  const harmless = new Set(['ping', 'sync', 'subscribe'])
  const id = fc.oneof(badString, fc.string({ minLength: 1, maxLength: 40 }))
  const message = (role: 'operator' | 'viewer') =>
    fc.oneof(
      fc.record({ event: fc.constantFrom('ping', 'sync', 'subscribe'), args: fc.array(junk, { maxLength: 3 }) }),
      fc.record({
        event: fc.constant('task:submit'),
        args: fc.tuple(
          broken(
            { name: 'fuzz', kind: 'report', priority: 1 },
            {
              name: badString,
              kind: badString,
              priority: fc.oneof(fc.double({ noInteger: true }), fc.integer({ min: 1001 }), badString),
            },
            ['name', 'kind'],
          ),
        ),
      }),
      fc.record({
        event: fc.constantFrom('task:submit'),
        args: fc.tuple(broken({ name: 'sh', kind: 'shell', payload: { command: 'true' } }, { payload: notAString })),
      }),
      fc.record({
        event: fc.constantFrom('task:cancel', 'task:retry'),
        args: fc.tuple(broken({ taskId: queuedId }, { taskId: id })),
      }),
      fc.record({
        event: fc.constantFrom('agent:pause', 'agent:resume'),
        args: fc.tuple(broken({ agentId: AGENT_ID }, { agentId: id })),
      }),
      fc.record({
        event: fc.constant('alert:ack'),
        args: fc.tuple(fc.oneof(junk, broken({ alertId: 'a' }, { alertId: id }))),
      }),
      // A viewer may send even valid commands: its role alone refuses them.
      ...(role === 'viewer'
        ? [
            fc.record({
              event: fc.constantFrom('task:cancel', 'task:retry'),
              args: fc.constant<unknown[]>([{ taskId: queuedId }]),
            }),
            fc.record({ event: fc.constant('agent:pause'), args: fc.constant<unknown[]>([{ agentId: AGENT_ID }]) }),
            fc.record({
              event: fc.constant('task:submit'),
              args: fc.constant<unknown[]>([{ name: 'v', kind: 'report' }]),
            }),
          ]
        : []),
      fc.record({
        event: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty')),
        args: fc.array(junk, { maxLength: 2 }),
      }),
    )

  it.each(['operator', 'viewer'] as const)(
    'with a %s token: every answer clear, nothing changed',
    async (role) => {
      const socket = await dashboard(TEST_TOKENS[role])
      try {
        await fc.assert(
          fc.asyncProperty(message(role), ackMode, async ({ event, args }, mode) => {
            const answer = await send(socket, event, args, mode)
            if (answer === null) return
            const what = `${role} ${event} ${JSON.stringify(args).slice(0, 200)}`
            expectClearAnswer(answer, what)
            if (!harmless.has(event)) expect(answer.ok, `${what} was accepted`).toBe(false)
            if (role === 'viewer' && !harmless.has(event) && event.includes(':') && !answer.ok) {
              expect(['forbidden', 'bad_request'], what).toContain(answer.error.code)
            }
          }),
          { numRuns: RUNS },
        )
        await stillAnswers(socket)
      } finally {
        socket.disconnect()
      }
    },
    TIMEOUT_MS,
  )

  it(
    'refuses hostile handshakes, and admits a valid token whatever else the handshake holds',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<string | undefined>(
            undefined,
            'wrong-wrong-wrong-wrong',
            TEST_TOKENS.agent,
            TEST_TOKENS.viewer,
          ),
          fc.oneof(junk, fc.record({ token: junk }), fc.record({ sinceSeq: junk, instance: junk })),
          async (token, extra) => {
            const auth =
              typeof extra === 'object' && extra !== null && !Array.isArray(extra)
                ? token === undefined
                  ? extra
                  : { ...extra, token }
                : token === undefined
                  ? { token: extra }
                  : { token }
            const socket = io(`${core.url}/dashboard`, {
              auth: auth as Record<string, unknown>,
              transports: ['websocket'],
              reconnection: false,
              forceNew: true,
            })
            try {
              const outcome = await new Promise<string>((resolve) => {
                socket.once('snapshot', () => resolve('connected'))
                socket.once('events', () => resolve('connected'))
                socket.once('connect_error', (error) => resolve(error.message))
                setTimeout(() => resolve('no answer'), ACK_TIMEOUT_MS)
              })
              const expected =
                token === TEST_TOKENS.viewer ? 'connected' : token === TEST_TOKENS.agent ? 'forbidden' : 'unauthorized'
              expect(outcome, JSON.stringify(auth).slice(0, 200)).toBe(expected)
            } finally {
              socket.disconnect()
            }
          },
        ),
        { numRuns: Math.ceil(RUNS / 3) },
      )
    },
    TIMEOUT_MS,
  )
})

describe('fuzzing /agents', () => {
  const taskId = fc.oneof(badString, fc.string({ minLength: 1, maxLength: 40 }))
  const message = fc.oneof(
    fc.record({
      event: fc.constant('agent:register'),
      args: fc.tuple(
        broken(
          { id: AGENT_ID, name: 'fixture', capabilities: ['fixture'] },
          {
            id: badString,
            name: badString,
            capabilities: fc.oneof(notAString, fc.array(badString, { minLength: 1, maxLength: 2 })),
          },
        ),
      ),
    }),
    fc.record({ event: fc.constantFrom('agent:heartbeat', 'agent:metrics'), args: fc.array(junk, { maxLength: 2 }) }),
    fc.record({
      event: fc.constant('task:progress'),
      args: fc.tuple(
        broken(
          { taskId: heldId, progress: 0.5 },
          { taskId, progress: fc.oneof(fc.double({ min: 1.0001 }), fc.double({ max: -0.0001 }), badString) },
        ),
      ),
    }),
    fc.record({
      event: fc.constant('task:complete'),
      args: fc.tuple(broken({ taskId: heldId, result: 1 }, { taskId }, ['taskId'])),
    }),
    fc.record({
      event: fc.constant('task:fail'),
      args: fc.tuple(broken({ taskId: heldId, error: 'boom' }, { taskId, error: badString })),
    }),
    fc.record({
      event: fc.constant('log'),
      args: fc.tuple(
        broken(
          { taskId: heldId, level: 'info', message: 'm' },
          { level: fc.oneof(badString, fc.constantFrom('fatal', 'INFO', 'trace')), message: notAString },
          ['level', 'message'],
        ),
      ),
    }),
    fc.record({ event: fc.string({ maxLength: 40 }), args: fc.array(junk, { maxLength: 2 }) }),
  )
  // These may be accepted: they say the agent is alive or how loaded it is, nothing the comparison
  // covers; a repeated register of the same id is acknowledged and changes nothing (the comparison checks).
  const harmless = new Set(['agent:heartbeat', 'agent:metrics', 'agent:register'])

  it(
    'with the agent token: every answer clear, nothing changed',
    async () => {
      await fc.assert(
        fc.asyncProperty(message, ackMode, async ({ event, args }, mode) => {
          const answer = await send(agentSocket, event, args, mode)
          if (answer === null) return
          const what = `agent ${event} ${JSON.stringify(args).slice(0, 200)}`
          expectClearAnswer(answer, what)
          if (!harmless.has(event)) expect(answer.ok, `${what} was accepted`).toBe(false)
        }),
        { numRuns: RUNS },
      )
      expect(agentSocket.connected).toBe(true)
      expect(((await agentSocket.timeout(ACK_TIMEOUT_MS).emitWithAck('agent:heartbeat')) as Result<unknown>).ok).toBe(
        true,
      )
    },
    TIMEOUT_MS,
  )

  it(
    'refuses every other token, whatever the handshake holds',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<unknown>(undefined, TEST_TOKENS.operator, TEST_TOKENS.viewer, 'wrong-wrong-wrong'),
          junk,
          async (token, extra) => {
            const socket = io(`${core.url}/agents`, {
              auth: (token === undefined ? { extra } : { token, extra }) as Record<string, unknown>,
              transports: ['websocket'],
              reconnection: false,
              forceNew: true,
            })
            try {
              const outcome = await new Promise<string>((resolve) => {
                socket.once('connect', () => resolve('connected'))
                socket.once('connect_error', (error) => resolve(error.message))
                setTimeout(() => resolve('no answer'), ACK_TIMEOUT_MS)
              })
              const viewerOrOperator = token === TEST_TOKENS.operator || token === TEST_TOKENS.viewer
              expect(outcome).toBe(viewerOrOperator ? 'forbidden' : 'unauthorized')
            } finally {
              socket.disconnect()
            }
          },
        ),
        { numRuns: Math.ceil(RUNS / 4) },
      )
    },
    TIMEOUT_MS,
  )
})

describe('fuzzing Socket.IO packets below the client library', () => {
  /** Opens a raw Engine.IO WebSocket, joins `/dashboard` with a valid token and sends `frames`. */
  async function raw(frames: (string | Buffer)[]): Promise<void> {
    const url = `${core.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`
    const ws = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve()) // the Engine.IO open packet
      ws.once('error', reject)
    })
    ws.send(`40/dashboard,${JSON.stringify({ token: TEST_TOKENS.operator })}`)
    await new Promise<void>((resolve) => ws.once('message', () => resolve()))
    for (const frame of frames) ws.send(frame)
    await new Promise((resolve) => setTimeout(resolve, 5))
    ws.terminate()
  }

  const payloadText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.constantFrom('[', '["task:submit",', '[1,2]', '[null]', '["disconnect"]', '["connect_error",{}]', '{}'),
  )
  const frame = fc.oneof(
    payloadText.map((text) => `42/dashboard,${text}`),
    payloadText.map((text) => `4${text}`),
    fc.integer({ min: 0, max: 99 }).chain((id) => payloadText.map((text) => `43/dashboard,${id}${text}`)),
    fc.integer({ min: 1, max: 20 }).chain((n) => payloadText.map((text) => `45${n}-/dashboard,${text}`)),
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  )

  it(
    'survives malformed packets, reserved event names and binary garbage',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (frames) => raw(frames)),
        { numRuns: Math.ceil(RUNS / 3) },
      )
      await healthy(core.url)
    },
    TIMEOUT_MS,
  )
})

describe('fuzzing HTTP', () => {
  const tokens = fc.constantFrom<string | undefined>(
    undefined,
    'wrong-wrong-wrong-wrong',
    TEST_TOKENS.agent,
    TEST_TOKENS.viewer,
    TEST_TOKENS.operator,
  )
  const pathPart = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }).map(encodeURIComponent),
    fc.constantFrom('%', '%00', '..%2f..%2fetc%2fpasswd', '__proto__', 'constructor', 'x'.repeat(300)),
  )
  const query = fc
    .dictionary(
      fc.oneof(fc.constantFrom('status', 'agent', 'limit', '__proto__'), fc.string({ maxLength: 10 })),
      fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('-1', '1e9', 'NaN', 'queued', '1.5', '[]')),
      { maxKeys: 4 },
    )
    .map((entries) => new URLSearchParams(entries).toString())
  const body = fc.oneof(
    broken(
      { name: 'fuzz', kind: 'report' },
      { name: badString, kind: badString, priority: fc.oneof(badString, fc.double({ noInteger: true })) },
      ['name', 'kind'],
    ).map((value) => JSON.stringify(value)),
    fc.constantFrom(
      '{"name":',
      '{"__proto__": {"polluted": "yes"}, "name": "p", "kind": "report"}',
      '{"constructor": {"prototype": {"polluted": "yes"}}, "name": "p", "kind": "report"}',
      '[]',
      'null',
      '"string"',
      '',
      '{'.repeat(5000),
      `${'['.repeat(3000)}${']'.repeat(3000)}`,
    ),
    fc.string({ unit: 'binary', maxLength: 500 }),
  )
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  )
  const request = fc.oneof(
    fc.record({
      method: fc.constant('GET'),
      path: fc.constantFrom('/api/snapshot', '/api/agents', '/metrics', '/healthz'),
    }),
    fc.record({ method: fc.constant('GET'), path: query.map((q) => `/api/tasks?${q}`) }),
    fc.record({ method: fc.constant('GET'), path: pathPart.map((id) => `/api/tasks/${id}`) }),
    fc.record({ method: fc.constant('POST'), path: fc.constant('/api/tasks'), body, contentType }),
    fc.record({
      method: fc.constant('POST'),
      path: pathPart.map((id) => `/api/tasks/${id}/cancel`),
      body,
      contentType,
    }),
    fc.record({
      method: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET', 'POST'),
      path: pathPart.map((p) => `/${p}`),
    }),
  )

  it(
    'answers every request with a 2xx or a clear 4xx, never a 500, and changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          request,
          tokens,
          async (req: { method: string; path: string; body?: string; contentType?: string }, token) => {
            const response = await fetch(`${core.url}${req.path}`, {
              method: req.method,
              headers: {
                ...(token ? { authorization: `Bearer ${token}` } : {}),
                ...(req.contentType ? { 'content-type': req.contentType } : {}),
              },
              ...(req.body !== undefined ? { body: req.body } : {}),
              signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
            })
            const text = await response.text()
            const what = `${req.method} ${req.path.slice(0, 120)} (${token?.slice(0, 9)}) -> ${response.status} ${text.slice(0, 200)}`
            expect(response.status, what).toBeLessThan(500)
            if (req.method === 'POST' && token === TEST_TOKENS.operator)
              expect(response.status, what).toBeGreaterThanOrEqual(400)
            if (response.status >= 400 && response.headers.get('content-type')?.includes('json')) {
              const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error
              expect(ERROR_CODES, what).toContain(error?.code)
              expect(error?.message, what).toEqual(expect.any(String))
            }
          },
        ),
        { numRuns: RUNS * 2 },
      )
    },
    TIMEOUT_MS,
  )
})

describe('after the fuzzing', () => {
  it('still answers, over HTTP and on a new connection', async () => {
    await healthy(core.url)
    const socket = await dashboard(TEST_TOKENS.viewer)
    await stillAnswers(socket)
    socket.disconnect()
  })

  it('holds the same agents and tasks as before', async () => {
    expect(await swarmState(core.url)).toEqual(before)
    expect(core.coordinator.getTask(heldId)?.status).toBe('assigned')
    expect(core.coordinator.getTask(queuedId)?.status).toBe('queued')
  })

  it('has no polluted prototypes (the server runs in this process)', () => {
    const probe = {} as Record<string, unknown>
    expect(probe.polluted).toBeUndefined()
    expect(probe.isAdmin).toBeUndefined()
    expect(Object.keys(Object.prototype)).toEqual([])
  })
})
