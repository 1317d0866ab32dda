/**
 * Who speaks for an agent id on `/agents`, on real servers and sockets: a
 * live connection keeps its id (another one is refused with `conflict`); the
 * id frees when that connection closes or is silent past the heartbeat
 * timeout; the same agent presenting its session key takes over at once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Agent, Task } from '../../src/shared/domain'
import type { TaskSubmitRequest } from '../../src/shared/commands'
import { closeAgents, rawAgent, registeredRawAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

const submit = async (core: TestCore, task: TaskSubmitRequest): Promise<Task> => {
  const response = await postJson(`${core.url}/api/tasks`, task, TEST_TOKENS.operator)
  expect(response.status).toBe(201)
  return response.body as Task
}
const agents = async (core: TestCore) =>
  ((await getJson(`${core.url}/api/agents`, TEST_TOKENS.viewer)).body as { agents: Agent[] }).agents
const task = (core: TestCore, id: string) => core.coordinator.getTask(id)

afterEach(() => closeAgents())

describe('one live connection per agent id', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  it('refuses a second connection for a live id; the first keeps its task; once it disconnects the id is free at once', async () => {
    const first = await registeredRawAgent(core.url, 'owned', ['own'])
    const assigned = new Promise<Task>((resolve) => first.once('task:assign', ({ task: t }) => resolve(t)))
    const submitted = await submit(core, { name: 'own', kind: 'x', capabilities: ['own'] })
    await assigned
    let closed: string | null = null
    first.on('agent:closed', ({ reason }) => (closed = reason))

    const thief = rawAgent(core.url)
    await new Promise<void>((resolve) => thief.once('connect', () => resolve()))
    let stolen = false
    thief.on('task:assign', () => (stolen = true))
    expect(await thief.emitWithAck('agent:register', { id: 'owned', name: 'thief', capabilities: ['own'] })).toEqual({
      ok: false,
      error: {
        code: 'conflict',
        message: expect.stringMatching(
          /^agent id owned is held by a live connection .* frees when that connection closes, or once it has been silent for the heartbeat timeout \(15000 ms\)/,
        ),
      },
    })
    // The thief's refused registration left it unregistered: it can do nothing.
    expect(await thief.emitWithAck('task:complete', { taskId: submitted.id, result: 'stolen' })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    })
    expect(core.coordinator.getAgent('owned')).toMatchObject({ name: 'owned', status: 'busy' })
    expect(await first.emitWithAck('task:complete', { taskId: submitted.id, result: 'mine' })).toEqual({
      ok: true,
      data: null,
    })
    expect(task(core, submitted.id)).toMatchObject({
      status: 'succeeded',
      agentId: 'owned',
      result: 'mine',
      attempts: 1,
    })
    expect(closed).toBeNull()
    expect(first.connected).toBe(true)
    expect(stolen).toBe(false)

    first.disconnect()
    await until(() => core.coordinator.getAgent('owned')?.status === 'offline', 2000, 'the first to be gone')
    expect(await thief.emitWithAck('agent:register', { id: 'owned', name: 'next', capabilities: ['own'] })).toEqual({
      ok: true,
      data: { agentId: 'owned', sessionKey: expect.any(String) },
    })
    expect(core.coordinator.getAgent('owned')).toMatchObject({ name: 'next', status: 'idle' })
  })

  it('lets a reconnect that presents the session key take over at once; a wrong key is refused', async () => {
    const first = rawAgent(core.url)
    await new Promise<void>((resolve) => first.once('connect', () => resolve()))
    const registration = { id: 'keyed', name: 'keyed', capabilities: ['keyed'] }
    const answer = await first.emitWithAck('agent:register', registration)
    if (!answer.ok) return expect.unreachable(answer.error.message)
    const { sessionKey } = answer.data
    const assigned = new Promise<Task>((resolve) => first.once('task:assign', ({ task: t }) => resolve(t)))
    const submitted = await submit(core, { name: 'keyed', kind: 'x', capabilities: ['keyed'] })
    await assigned
    const closed = new Promise<string>((resolve) => first.once('agent:closed', ({ reason }) => resolve(reason)))

    const wrong = rawAgent(core.url)
    await new Promise<void>((resolve) => wrong.once('connect', () => resolve()))
    for (const key of ['wrong', sessionKey.slice(1), `${sessionKey}x`]) {
      expect(await wrong.emitWithAck('agent:register', { ...registration, sessionKey: key })).toMatchObject({
        ok: false,
        error: { code: 'conflict', message: expect.stringMatching(/sessionKey that is not the holder's/) },
      })
    }
    expect(first.connected).toBe(true)
    expect(task(core, submitted.id)).toMatchObject({ agentId: 'keyed', attempts: 1 })

    // The same agent on a new connection (its old link half-open, say): in at once, without waiting for 15 s.
    const second = rawAgent(core.url)
    await new Promise<void>((resolve) => second.once('connect', () => resolve()))
    const reassigned = new Promise<Task>((resolve) => second.once('task:assign', ({ task: t }) => resolve(t)))
    const taken = await second.emitWithAck('agent:register', { ...registration, sessionKey })
    expect(taken).toEqual({ ok: true, data: { agentId: 'keyed', sessionKey: expect.any(String) } })
    expect(taken.ok && taken.data.sessionKey).not.toBe(sessionKey)
    expect(await closed).toBe('replaced')
    // What the old connection held was requeued, and goes to the new one.
    expect(await reassigned).toMatchObject({ id: submitted.id, attempts: 2 })
    await until(() => !first.connected, 2000, 'the old connection to be closed')
    expect((await agents(core)).filter((a) => a.id === 'keyed')).toHaveLength(1)
  })
})

describe('a holder that goes silent', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'], { agentHeartbeatTimeoutMs: 300 })
  })
  afterAll(() => core.stop())

  it('frees the id of a holder that stopped sending once it has been silent past the heartbeat timeout', async () => {
    // Open, but silent: what a half-open link or a stuck process looks like to the server.
    const holder = await registeredRawAgent(core.url, 'stuck')
    const heardAt = Date.now()
    const closed = new Promise<string>((resolve) => holder.once('agent:closed', ({ reason }) => resolve(reason)))
    const next = rawAgent(core.url)
    await new Promise<void>((resolve) => next.once('connect', () => resolve()))
    const registration = { id: 'stuck', name: 'next', capabilities: [] }
    expect(await next.emitWithAck('agent:register', registration)).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringMatching(/heartbeat timeout \(300 ms\)/) },
    })
    let answer = await next.emitWithAck('agent:register', registration)
    for (let i = 0; i < 100 && !answer.ok; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      answer = await next.emitWithAck('agent:register', registration)
    }
    expect(answer).toMatchObject({ ok: true, data: { agentId: 'stuck' } })
    expect(Date.now() - heardAt).toBeGreaterThanOrEqual(300)
    expect(await closed).toBe('heartbeat_timeout')
    expect(core.coordinator.getAgent('stuck')).toMatchObject({ name: 'next', status: 'idle' })
  })
})
