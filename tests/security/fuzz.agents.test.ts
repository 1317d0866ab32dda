/**
 * Fuzzing `/agents` with the agent token (a registered agent holding a task),
 * its handshake with every other token and none, and raw Socket.IO packets
 * below the client library (malformed frames, reserved event names, binary
 * garbage). Same rules as fuzz.dashboard.test.ts.
 */
import fc from 'fast-check'
import { io } from 'socket.io-client'
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import type { Result } from '../../src/shared/result'
import { TEST_TOKENS } from '../helpers/core'
import { healthy } from './support'
import {
  afterFuzzing,
  ackMode,
  expectClearAnswer,
  RUNS,
  ACK_TIMEOUT_MS,
  AGENT_ID,
  send,
  TIMEOUT_MS,
  useFuzzTarget,
} from './fuzz/target'
import { badString, broken, junk, notANumber, notAString } from './fuzz/values'

const target = useFuzzTarget()

describe('fuzzing /agents', () => {
  const taskId = fc.oneof(badString, fc.string({ minLength: 1, maxLength: 40 }))
  // Built when the test runs: the fixture's ids exist only then.
  const message = () =>
    fc.oneof(
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
            { taskId: target.heldId, progress: 0.5 },
            { taskId, progress: fc.oneof(fc.double({ min: 1.0001 }), fc.double({ max: -0.0001 }), notANumber) },
          ),
        ),
      }),
      fc.record({
        event: fc.constant('task:complete'),
        args: fc.tuple(broken({ taskId: target.heldId, result: 1 }, { taskId }, ['taskId'])),
      }),
      fc.record({
        event: fc.constant('task:fail'),
        args: fc.tuple(broken({ taskId: target.heldId, error: 'boom' }, { taskId, error: badString })),
      }),
      fc.record({
        event: fc.constant('log'),
        args: fc.tuple(
          broken(
            { taskId: target.heldId, level: 'info', message: 'm' },
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
        fc.asyncProperty(message(), ackMode, async ({ event, args }, mode) => {
          const answer = await send(target.agentSocket, event, args, mode)
          if (answer === null) return
          const what = `agent ${event} ${JSON.stringify(args).slice(0, 200)}`
          expectClearAnswer(answer, what)
          if (!harmless.has(event)) expect(answer.ok, `${what} was accepted`).toBe(false)
        }),
        { numRuns: RUNS },
      )
      expect(target.agentSocket.connected).toBe(true)
      expect(
        ((await target.agentSocket.timeout(ACK_TIMEOUT_MS).emitWithAck('agent:heartbeat')) as Result<unknown>).ok,
      ).toBe(true)
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
            const socket = io(`${target.core.url}/agents`, {
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
    const url = `${target.core.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`
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
      await healthy(target.core.url)
    },
    TIMEOUT_MS,
  )
})

afterFuzzing(target)
