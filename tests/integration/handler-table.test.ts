/**
 * A handler table mounted on a real Socket.IO server behind the real guard:
 * async handlers are answered like synchronous ones, and one that rejects
 * answers `internal`, is logged, and leaves no unhandled rejection and the
 * server serving.
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import pino from 'pino'
import { Server, type Socket as ServerSocket } from 'socket.io'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { guardSocket } from '../../src/main/core/server/guard'
import { eventsOf, mount, type HandlerTable } from '../../src/main/core/server/handler-table'
import { DEFAULT_LIMITS } from '../../src/main/core/server/limits'
import type { Agent } from '../../src/shared/domain'
import type { DashboardClientToServer, DashboardServerToClient } from '../../src/shared/protocol'
import { fail, ok, type Result } from '../../src/shared/result'
import { dashboardClient, until, type DashboardSocket } from '../helpers/core'

const later = () => new Promise<void>((resolve) => setTimeout(resolve, 5))
const agent = { id: 'a1', name: 'a1' } as Agent
const notHere = () => fail('unavailable', 'not part of this test')

/** Every event of `/dashboard`; the ones under test fail in each way a handler can. */
const table: HandlerTable<DashboardClientToServer, null> = {
  ping: () => ok({ serverTime: Date.now() }),
  sync: notHere,
  'workflow:submit': notHere,
  'workflow:cancel': notHere,
  'workflow:retry-failed': notHere,
  'kind:update': notHere,
  'schedule:create': notHere,
  'schedule:pause': notHere,
  'schedule:resume': notHere,
  'schedule:run': notHere,
  'schedule:delete': notHere,
  subscribe: notHere,
  'task:submit': async () => {
    await later()
    throw new Error('the durable write failed')
  },
  'task:cancel': () => {
    throw new Error('a synchronous bug')
  },
  'task:retry': () => Promise.reject(new Error('rejected at once')),
  'task:bulk': notHere,
  'agent:pause': async () => {
    await later()
    return ok(agent)
  },
  'agent:resume': async () => {
    await later()
    return fail('not_found', 'no agent a9')
  },
  'alert:ack': notHere,
}

let http: HttpServer
let io: Server<DashboardClientToServer, DashboardServerToClient>
let url: string
const logged: { level: number; msg: string; event?: string; err?: { message: string } }[] = []
const unanswered: { event: string; result: Result<unknown> }[] = []
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
let socket: DashboardSocket

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString()))
        done()
      },
    }),
  )
  http = createServer()
  io = new Server(http)
  io.of('/dashboard').on('connection', (client: ServerSocket<DashboardClientToServer, DashboardServerToClient>) => {
    guardSocket(client, { namespace: '/dashboard', events: eventsOf(table), limits: DEFAULT_LIMITS, logger })
    mount(client, table, null, {
      logger,
      noAck: (event) => (result) => unanswered.push({ event, result }),
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  await new Promise<void>((resolve) => io.close(() => resolve()))
})

beforeEach(async () => {
  logged.length = 0
  unanswered.length = 0
  unhandled.length = 0
  socket = dashboardClient(url, 'unused')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('connect_error', reject))
})

afterEach(() => {
  socket.disconnect()
})

/** Lets a stray rejection reach `unhandledRejection` (Node reports it after the microtask queue drains). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

describe('handlers on a real server', () => {
  it('answers internal when an async handler rejects, logs it, and keeps serving', async () => {
    const answer = await socket.timeout(2000).emitWithAck('task:submit', { name: 'n', kind: 'k' })
    expect(answer).toEqual({
      ok: false,
      error: { code: 'internal', message: 'the server failed to handle this message' },
    })
    await settle()
    expect(unhandled).toEqual([])
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: 'handler failed',
        event: 'task:submit',
        err: expect.objectContaining({ message: 'the durable write failed' }),
      }),
    )
    // The same connection, and a new one, are still served.
    expect(await socket.timeout(2000).emitWithAck('ping')).toMatchObject({ ok: true })
    const another = dashboardClient(url, 'unused')
    try {
      expect(await another.timeout(2000).emitWithAck('ping')).toMatchObject({ ok: true })
    } finally {
      another.disconnect()
    }
  })

  it('answers internal for a promise rejected at once and for a synchronous throw', async () => {
    expect(await socket.timeout(2000).emitWithAck('task:retry', { taskId: 't' })).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    })
    expect(await socket.timeout(2000).emitWithAck('task:cancel', { taskId: 't' })).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    })
    await settle()
    expect(unhandled).toEqual([])
  })

  it('answers what an async handler resolves with, data or refusal', async () => {
    expect(await socket.timeout(2000).emitWithAck('agent:pause', { agentId: 'a1' })).toEqual({ ok: true, data: agent })
    expect(await socket.timeout(2000).emitWithAck('agent:resume', { agentId: 'a9' })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'no agent a9' },
    })
  })

  it('hands a rejection without an ack to noAck, with nothing unhandled', async () => {
    ;(socket.emit as (...args: unknown[]) => void)('task:submit', { name: 'n', kind: 'k' })
    await until(() => unanswered.length > 0, 2000, 'the unanswered refusal')
    expect(unanswered).toEqual([{ event: 'task:submit', result: expect.objectContaining({ ok: false }) }])
    expect((unanswered[0]!.result as Extract<Result<unknown>, { ok: false }>).error.code).toBe('internal')
    await settle()
    expect(unhandled).toEqual([])
  })

  it('knows exactly the table’s events: anything else is refused by the guard', async () => {
    const timed = socket.timeout(2000)
    const emit = timed.emitWithAck.bind(timed) as (event: string, payload: unknown) => Promise<unknown>
    expect(await emit('task:pin', {})).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    expect([...eventsOf(table)].sort()).toEqual(Object.keys(table).sort())
  })
})
