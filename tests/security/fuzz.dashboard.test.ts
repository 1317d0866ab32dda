/**
 * Fuzzing `/dashboard` with an operator and a viewer token, and its handshake
 * with every token and none: random and malformed payloads (wrong types, huge
 * strings, deep nesting, prototype-pollution keys) with an ack, without one,
 * and with a last argument that is not a function. Every answer is a clear
 * `{ ok, error: { code, message } }`; afterwards the server answers and the
 * swarm is what it was. Payloads for commands that change the swarm are built
 * invalid, so an `ok: true` from one is a validation gap and fails the test.
 */
import fc from 'fast-check'
import { io } from 'socket.io-client'
import { describe, expect, it } from 'vitest'
import { TEST_TOKENS } from '../helpers/core'
import {
  afterFuzzing,
  ackMode,
  dashboard,
  expectClearAnswer,
  RUNS,
  ACK_TIMEOUT_MS,
  AGENT_ID,
  send,
  stillAnswers,
  TIMEOUT_MS,
  useFuzzTarget,
} from './fuzz/target'
import { badString, broken, junk, notANumber, notAString } from './fuzz/values'

const target = useFuzzTarget()

/** Values no array, object or boolean field of the bulk command accepts. */
const notAnArray = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null), fc.constant({}))
const notAnObject = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null), fc.constant([]))
const notABoolean = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null), fc.constant([]))
/** Values no limit of `kind:update` accepts (null is valid: it clears). */
const notALimit = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: 10_001 }),
  fc.double({ noInteger: true }),
  fc.string({ maxLength: 5 }),
  fc.boolean(),
  fc.constant([]),
)

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
              priority: fc.oneof(fc.double({ noInteger: true }), fc.integer({ min: 1001 }), notANumber),
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
        args: fc.tuple(broken({ taskId: target.queuedId }, { taskId: id })),
      }),
      fc.record({
        event: fc.constant('task:bulk'),
        args: fc.tuple(
          fc.oneof(
            broken(
              { action: 'cancel', ids: [target.queuedId] },
              {
                action: badString,
                ids: fc.oneof(
                  notAnArray,
                  fc.constant([]),
                  fc.array(badString, { minLength: 1, maxLength: 2 }),
                  fc.constant(Array.from({ length: 1001 }, (_, i) => `t${i}`)),
                ),
                filter: fc.oneof(fc.constant({}), junk),
                dryRun: notABoolean,
              },
              ['action', 'ids'],
            ),
            broken(
              { action: 'retry', filter: { kind: 'report' } },
              {
                filter: fc.oneof(
                  notAnObject,
                  fc.record({ status: fc.oneof(badString, fc.constant([])) }),
                  fc.record({ text: fc.oneof(badString, fc.constant('   ')) }),
                  fc.record({ colour: junk }),
                ),
              },
            ),
          ),
        ),
      }),
      fc.record({
        event: fc.constantFrom('agent:pause', 'agent:resume'),
        args: fc.tuple(broken({ agentId: AGENT_ID }, { agentId: id })),
      }),
      fc.record({
        event: fc.constant('kind:update'),
        args: fc.tuple(
          fc.oneof(
            junk,
            broken(
              { kind: 'report', paused: true },
              { kind: badString, paused: notABoolean, maxRunning: notALimit, maxPerMinute: notALimit },
              ['kind', 'paused'],
            ),
          ),
        ),
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
              args: fc.constant<unknown[]>([{ taskId: target.queuedId }]),
            }),
            fc.record({ event: fc.constant('agent:pause'), args: fc.constant<unknown[]>([{ agentId: AGENT_ID }]) }),
            fc.record({
              event: fc.constant('task:bulk'),
              args: fc.constant<unknown[]>([{ action: 'cancel', filter: {} }]),
            }),
            fc.record({
              event: fc.constant('task:submit'),
              args: fc.constant<unknown[]>([{ name: 'v', kind: 'report' }]),
            }),
            fc.record({
              event: fc.constant('kind:update'),
              args: fc.constant<unknown[]>([{ kind: 'report', paused: true }]),
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
      const socket = await dashboard(target, TEST_TOKENS[role])
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
        expect(target.core.coordinator.configuredKinds().size, 'a kind got limits').toBe(0)
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
            const socket = io(`${target.core.url}/dashboard`, {
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

afterFuzzing(target)
