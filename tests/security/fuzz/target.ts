/**
 * The server the fuzz tests fire at: a real core with the limits out of the
 * way (they have their own tests), one registered agent holding one task, one
 * task nobody can take, and the swarm state recorded before. Each fuzz file
 * gets its own. Also: sending with or without acks, and the checks that
 * close every file (still answering, nothing changed, no polluted prototype).
 */
import fc from 'fast-check'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Task } from '../../../src/shared/domain'
import { ERROR_CODES, type Result } from '../../../src/shared/result'
import { closeAgents, rawAgent } from '../../helpers/agents'
import { TEST_TOKENS, postJson, startCore, until } from '../../helpers/core'
import { healthy, swarmState, type SwarmState } from '../support'

export const RUNS = Number(process.env.FUZZ_RUNS ?? 150)
export const ACK_TIMEOUT_MS = 3000
/** Room for big runs (FUZZ_RUNS=3000 takes a minute here). */
export const TIMEOUT_MS = 20_000 + RUNS * 40
export const AGENT_ID = 'fixture-agent'

export interface FuzzTarget {
  core: Awaited<ReturnType<typeof startCore>>
  before: SwarmState
  /** Assigned to the fixture agent. */
  heldId: string
  /** Needs a capability no agent has. */
  queuedId: string
  /** The fixture agent's connection, registered. */
  agentSocket: Socket
}

/** Starts the target before the file's tests and stops it after; its fields are set once they run. */
export function useFuzzTarget(): FuzzTarget {
  const target = {} as FuzzTarget
  beforeAll(async () => {
    // The fixture agent sends no heartbeats of its own: it must not go offline during long runs (FUZZ_RUNS).
    const core = await startCore(['--no-demo'], {
      limits: { socketPerSecond: 1e6, socketBurst: 1e6, httpPerMinute: 1e6 },
      agentHeartbeatTimeoutMs: 3_600_000,
    })
    target.core = core
    const agentSocket = rawAgent(core.url) as unknown as Socket
    target.agentSocket = agentSocket
    const assigned = new Promise<string>((resolve) =>
      agentSocket.once('task:assign', ({ task }: { task: Task }) => resolve(task.id)),
    )
    await agentSocket.emitWithAck('agent:register', { id: AGENT_ID, name: 'fixture', capabilities: ['fixture'] })
    const held = await postJson(
      `${core.url}/api/tasks`,
      { name: 'held', kind: 'fixture', capabilities: ['fixture'] },
      TEST_TOKENS.operator,
    )
    target.heldId = (held.body as Task).id
    expect(await assigned).toBe(target.heldId)
    const queued = await postJson(
      `${core.url}/api/tasks`,
      { name: 'waits', kind: 'report', capabilities: ['nobody-has-this'] },
      TEST_TOKENS.operator,
    )
    target.queuedId = (queued.body as Task).id
    await until(() => core.coordinator.getTask(target.heldId)?.status === 'assigned', 2000, 'the fixture task assigned')
    target.before = await swarmState(core.url)
  })
  afterAll(async () => {
    await closeAgents()
    await target.core?.stop()
  })
  return target
}

export function dashboard(target: FuzzTarget, token: string): Promise<Socket> {
  const socket = io(`${target.core.url}/dashboard`, {
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
export function expectClearAnswer(answer: unknown, what: string): asserts answer is Result<unknown> {
  expect(answer, what).toMatchObject({ ok: expect.any(Boolean) })
  const result = answer as Result<unknown>
  if (!result.ok) {
    expect(ERROR_CODES, what).toContain(result.error.code)
    expect(typeof result.error.message === 'string' && result.error.message.length > 0, what).toBe(true)
  }
}

export type AckMode = 'ack' | 'none' | 'not-a-function'
export const ackMode = fc.constantFrom<AckMode>('ack', 'ack', 'ack', 'none', 'not-a-function')

/** Oversized messages close the connection by design (limits.test.ts); here they are left out. */
export const fits = (args: unknown[]) => Buffer.byteLength(JSON.stringify(args) ?? '') < 60_000

/** Sends one message the way `mode` says; resolves with the answer, or null when none was asked for. */
export async function send(socket: Socket, event: string, args: unknown[], mode: AckMode): Promise<unknown> {
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

export async function stillAnswers(socket: Socket): Promise<void> {
  expect(socket.connected, 'the fuzzing connection is still open').toBe(true)
  const answer = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('ping')) as Result<unknown>
  expect(answer.ok).toBe(true)
}

/** The checks that close each fuzz file. */
export function afterFuzzing(target: FuzzTarget): void {
  describe('after the fuzzing', () => {
    it('still answers, over HTTP and on a new connection', async () => {
      await healthy(target.core.url)
      const socket = await dashboard(target, TEST_TOKENS.viewer)
      await stillAnswers(socket)
      socket.disconnect()
    })

    it('holds the same agents and tasks as before', async () => {
      expect(await swarmState(target.core.url)).toEqual(target.before)
      expect(target.core.coordinator.getTask(target.heldId)?.status).toBe('assigned')
      expect(target.core.coordinator.getTask(target.queuedId)?.status).toBe('queued')
    })

    it('has no polluted prototypes (the server runs in this process)', () => {
      const probe = {} as Record<string, unknown>
      expect(probe.polluted).toBeUndefined()
      expect(probe.isAdmin).toBeUndefined()
      expect(Object.keys(Object.prototype)).toEqual([])
    })
  })
}
