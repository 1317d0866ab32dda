import { taskStatusOf } from '../../src/shared/changes'
import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Agent, Task, TaskDetail } from '../../src/shared/domain'
import type { TaskSubmitRequest } from '../../src/shared/commands'
import { closeAgents, rawAgent, registeredRawAgent, sdkAgent } from '../helpers/agents'
import { TEST_TOKENS, connectDashboard, getJson, postJson, startCore, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

const submit = async (core: TestCore, task: TaskSubmitRequest): Promise<Task> => {
  const response = await postJson(`${core.url}/api/tasks`, task, TEST_TOKENS.operator)
  expect(response.status).toBe(201)
  return response.body as Task
}
const agents = async (core: TestCore) =>
  ((await getJson(`${core.url}/api/agents`, TEST_TOKENS.viewer)).body as { agents: Agent[] }).agents
const connectError = (socket: ReturnType<typeof rawAgent>) =>
  new Promise<string>((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, but should have been refused')))
    socket.once('connect_error', (error) => resolve(error.message))
  })
const task = (core: TestCore, id: string) => core.coordinator.getTask(id)
/** Resolves once `handler` was called for a task, and lets the test end it. */
const gate = () => {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  return { release, released }
}

afterEach(() => closeAgents())

describe('/agents namespace', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  it('runs a task through an SDK agent: register, assign, progress, log, complete', async () => {
    const agent = sdkAgent(core.url, {
      id: 'hasher-1',
      name: 'hasher',
      capabilities: ['hash'],
      handler: async (t, ctx) => {
        ctx.progress(0.5, 'half way')
        ctx.log('info', 'hashing now')
        return {
          digest: createHash('sha256')
            .update(String((t.payload as { text: string }).text))
            .digest('hex'),
        }
      },
    })
    await agent.connected
    expect(agent.state).toBe('registered')
    const submitted = await submit(core, { name: 'h', kind: 'hash', payload: { text: 'abc' }, capabilities: ['hash'] })
    await until(() => task(core, submitted.id)?.status === 'succeeded', 5000, 'the task to succeed')
    expect(task(core, submitted.id)).toMatchObject({
      agentId: 'hasher-1',
      attempts: 1,
      progress: 1,
      result: { digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    })
    expect(task(core, submitted.id)?.startedAt).not.toBeNull()
    const [listed] = (await agents(core)).filter((a) => a.id === 'hasher-1')
    expect(listed).toMatchObject({ kind: 'remote', name: 'hasher', capabilities: ['hash'], status: 'idle' })
    expect(listed?.counters).toEqual({ done: 1, failed: 0 })
    // The history is committed in batches: poll until the lines are there.
    let messages: string[] = []
    for (let i = 0; i < 50 && !messages.includes('hashing now'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      const detail = (await getJson(`${core.url}/api/tasks/${submitted.id}`, TEST_TOKENS.viewer)).body as TaskDetail
      messages = detail.logs.map((line) => line.message)
    }
    expect(messages).toEqual(expect.arrayContaining(['half way', 'hashing now']))
  })

  it('fails the task with the message of a thrown error', async () => {
    const agent = sdkAgent(core.url, {
      id: 'thrower',
      capabilities: ['throws'],
      handler: () => {
        throw new Error('no such file: /nope')
      },
    })
    await agent.connected
    const submitted = await submit(core, { name: 'x', kind: 'anything', capabilities: ['throws'] })
    await until(() => task(core, submitted.id)?.status === 'failed', 5000, 'the task to fail')
    expect(task(core, submitted.id)?.error).toBe('no such file: /nope')
    expect((await agents(core)).find((a) => a.id === 'thrower')?.counters).toEqual({ done: 0, failed: 1 })
  })

  it('admits only the agent token', async () => {
    expect(await connectError(rawAgent(core.url, TEST_TOKENS.viewer))).toBe('forbidden')
    expect(await connectError(rawAgent(core.url, TEST_TOKENS.operator))).toBe('forbidden')
    expect(await connectError(rawAgent(core.url, null))).toBe('unauthorized')
    expect(await connectError(rawAgent(core.url, 'not-a-token'))).toBe('unauthorized')
    const agent = sdkAgent(core.url, { id: 'wrong-token', token: TEST_TOKENS.operator, handler: () => null })
    await expect(agent.connected).rejects.toThrow(/forbidden/)
    expect(await agent.ended).toMatchObject({ reason: 'refused' })
  })

  it('refuses invalid and early messages with clear errors, and they change nothing', async () => {
    const parked = await submit(core, { name: 'parked', kind: 'k', capabilities: ['nobody-has-this'] })
    const socket = rawAgent(core.url)
    await new Promise((resolve) => socket.once('connect', () => resolve(null)))

    const early = await socket.emitWithAck('task:complete', { taskId: parked.id })
    expect(early).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(/register first/) },
    })
    const badRegistrations: unknown[] = [
      null,
      'agent',
      { id: 'has space', name: 'x', capabilities: [] },
      { id: 'ok', name: 'x', capabilities: 'cpu' },
      { id: 'ok', name: 'x', capabilities: [], concurrency: 0 },
      { id: 'ok', name: 'x', capabilities: [], extra: true },
    ]
    for (const registration of badRegistrations) {
      const answer = await socket.emitWithAck('agent:register', registration as never)
      expect(answer).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    }
    expect((await agents(core)).map((a) => a.id)).not.toContain('ok')

    const registered = await socket.emitWithAck('agent:register', {
      id: 'strict-1',
      name: 'strict',
      capabilities: ['x'],
    })
    expect(registered).toEqual({ ok: true, data: { agentId: 'strict-1', sessionKey: expect.any(String) } })
    // The same registration again (a lost ack) is fine, with the same key; another id on this connection is not.
    expect(await socket.emitWithAck('agent:register', { id: 'strict-1', name: 'strict', capabilities: ['x'] })).toEqual(
      registered,
    )
    expect(await socket.emitWithAck('agent:register', { id: 'strict-2', name: 's', capabilities: [] })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    })
    const invalid: [string, unknown][] = [
      ['task:progress', { taskId: parked.id, progress: 2 }],
      ['task:progress', { taskId: 7, progress: 0.5 }],
      ['task:fail', { taskId: parked.id }],
      ['task:fail', { taskId: parked.id, error: '' }],
      ['log', { level: 'loud', message: 'x' }],
      ['agent:metrics', { cpu: -1 }],
      ['task:complete', 'not an object'],
    ]
    for (const [event, payload] of invalid) {
      const answer = await socket.emitWithAck(event as 'task:complete', payload as never)
      expect(answer, `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    }
    // Well-formed, but about a task this agent does not hold.
    for (const message of [
      { taskId: parked.id },
      { taskId: parked.id, error: 'x' },
      { taskId: parked.id, progress: 1 },
    ]) {
      const event = 'error' in message ? 'task:fail' : 'progress' in message ? 'task:progress' : 'task:complete'
      const answer = await socket.emitWithAck(event, message as never)
      expect(answer).toMatchObject({ ok: false, error: { code: 'conflict' } })
    }
    // Without an ack, garbage is dropped silently; the connection keeps working.
    const untyped = socket as unknown as { emit(...args: unknown[]): void }
    untyped.emit('task:complete', 42)
    untyped.emit('log')
    untyped.emit('agent:register', { id: 'x' }, 'not a function')
    const beat = await socket.emitWithAck('agent:heartbeat')
    expect(beat.ok && beat.data.serverTime).toBeGreaterThan(0)
    expect(task(core, parked.id)).toMatchObject({ status: 'queued', attempts: 0, agentId: null, result: null })
    expect((await agents(core)).find((a) => a.id === 'strict-1')).toMatchObject({
      status: 'idle',
      counters: { done: 0, failed: 0 },
    })
  })

  it('requeues the task of an SDK agent that disconnects mid-task; another agent finishes it exactly once', async () => {
    const started = gate()
    let aborted: unknown = null
    const first = sdkAgent(core.url, {
      id: 'leaver',
      capabilities: ['relay'],
      handler: (_t, ctx) =>
        new Promise((_resolve, reject) => {
          started.release()
          ctx.signal.addEventListener('abort', () => {
            aborted = ctx.signal.reason
            reject(ctx.signal.reason)
          })
        }),
    })
    await first.connected
    const { socket: viewer } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    const succeeded: string[] = []
    viewer.on('events', (events) => {
      for (const event of events) {
        const reported = taskStatusOf(event)
        if (reported?.status === 'succeeded') succeeded.push(reported.taskId)
      }
    })
    const submitted = await submit(core, { name: 'relay', kind: 'relay', capabilities: ['relay'] })
    await started.released
    await until(() => task(core, submitted.id)?.status === 'running', 2000, 'the task to run')

    let runs = 0
    const second = sdkAgent(core.url, {
      id: 'stayer',
      capabilities: ['relay'],
      handler: async () => {
        runs++
        return 'done by stayer'
      },
    })
    await second.connected
    expect(task(core, submitted.id)?.agentId).toBe('leaver')
    await first.close()
    await until(() => task(core, submitted.id)?.status === 'succeeded', 5000, 'the requeued task to finish')
    expect(task(core, submitted.id)).toMatchObject({ agentId: 'stayer', attempts: 2, result: 'done by stayer' })
    expect(aborted).toBeInstanceOf(Error)
    expect(runs).toBe(1)
    const listed = await agents(core)
    expect(listed.find((a) => a.id === 'leaver')).toMatchObject({ status: 'offline', counters: { done: 0, failed: 0 } })
    expect(listed.find((a) => a.id === 'stayer')).toMatchObject({ status: 'idle', counters: { done: 1, failed: 0 } })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(succeeded.filter((id) => id === submitted.id)).toHaveLength(1)
    viewer.disconnect()
  })

  it('ignores the late result of a task that was requeued and given to another agent', async () => {
    const first = await registeredRawAgent(core.url, 'late-1', ['late'])
    const assigned = new Promise<Task>((resolve) => first.once('task:assign', ({ task: t }) => resolve(t)))
    const submitted = await submit(core, { name: 'late', kind: 'late', capabilities: ['late'] })
    expect((await assigned).id).toBe(submitted.id)
    first.disconnect()
    await until(() => task(core, submitted.id)?.status === 'queued', 2000, 'the task to be requeued')

    const second = await registeredRawAgent(core.url, 'late-2', ['late'])
    await until(() => task(core, submitted.id)?.agentId === 'late-2', 2000, 'the task to go to late-2')
    // late-1 comes back (same id, new connection) with its old result, as a buffered emit would.
    const returning = await registeredRawAgent(core.url, 'late-1', ['late'])
    expect(await returning.emitWithAck('task:complete', { taskId: submitted.id, result: 'stale' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    })
    expect(await second.emitWithAck('task:complete', { taskId: submitted.id, result: 'fresh' })).toEqual({
      ok: true,
      data: null,
    })
    expect((await second.emitWithAck('task:complete', { taskId: submitted.id, result: 'again' })).ok).toBe(false)
    expect(task(core, submitted.id)).toMatchObject({ status: 'succeeded', result: 'fresh', attempts: 2 })
    const listed = await agents(core)
    expect(listed.filter((a) => a.id === 'late-1')).toHaveLength(1)
    expect(listed.find((a) => a.id === 'late-1')?.counters.done).toBe(0)
    expect(listed.find((a) => a.id === 'late-2')?.counters.done).toBe(1)
  })

  it('takes an agent back under the same id after its connection drops: no ghost', async () => {
    const agent = sdkAgent(core.url, { id: 'phoenix', capabilities: ['rise'], handler: () => 'ok' })
    await agent.connected
    const joinedAt = (await agents(core)).find((a) => a.id === 'phoenix')!.joinedAt
    // Cut the transport under the SDK: it reconnects by itself and registers again.
    agent.socket.io.engine.close()
    await until(() => core.coordinator.getAgent('phoenix')?.status === 'offline', 2000, 'phoenix offline')
    await until(() => core.coordinator.getAgent('phoenix')?.status === 'idle', 5000, 'phoenix back')
    const submitted = await submit(core, { name: 'after', kind: 'x', capabilities: ['rise'] })
    await until(() => task(core, submitted.id)?.status === 'succeeded', 5000, 'a task after the reconnect')
    const listed = (await agents(core)).filter((a) => a.id === 'phoenix')
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ joinedAt, counters: { done: 1, failed: 0 } })

    // A restarted process with the same id takes the same entry too.
    await agent.close()
    const again = sdkAgent(core.url, { id: 'phoenix', name: 'phoenix v2', capabilities: ['rise'], handler: () => 'ok' })
    await again.connected
    const after = (await agents(core)).filter((a) => a.id === 'phoenix')
    expect(after).toHaveLength(1)
    expect(after[0]).toMatchObject({ name: 'phoenix v2', status: 'idle', counters: { done: 1, failed: 0 } })
  })

  it('keeps an id with the SDK agent that holds it; a second SDK agent with that id retries and joins when it frees', async () => {
    const older = sdkAgent(core.url, { id: 'twin', capabilities: ['twin'], handler: () => 'older' })
    await older.connected
    const logs: string[] = []
    const newer = sdkAgent(core.url, {
      id: 'twin',
      capabilities: ['twin'],
      handler: () => 'newer',
      onLog: (level, message) => logs.push(`${level}: ${message}`),
    })
    await until(() => newer.connection.status.attempt >= 3, 5000, 'the newer agent to try a few times')
    expect(newer.state).toBe('reconnecting')
    expect(logs).toContainEqual(expect.stringMatching(/^warn: agent id twin is in use; trying again with backoff/))
    expect(older.state).toBe('registered')
    const first = await submit(core, { name: 'twin 1', kind: 'x', capabilities: ['twin'] })
    await until(() => task(core, first.id)?.status === 'succeeded', 5000, 'the first task')
    expect(task(core, first.id)?.result).toBe('older')

    await older.close()
    await newer.connected
    expect(newer.state).toBe('registered')
    const second = await submit(core, { name: 'twin 2', kind: 'x', capabilities: ['twin'] })
    await until(() => task(core, second.id)?.status === 'succeeded', 5000, 'the second task')
    expect(task(core, second.id)?.result).toBe('newer')
    expect(await older.ended).toMatchObject({ reason: 'closed' })
    expect((await agents(core)).filter((a) => a.id === 'twin')).toHaveLength(1)
  })

  it('refuses an id that belongs to another kind of agent', async () => {
    core.coordinator.addAgent(
      { id: 'in-process', name: 'p', kind: 'demo', capabilities: [] },
      { assign() {}, cancel() {} },
    )
    const socket = rawAgent(core.url)
    await new Promise((resolve) => socket.once('connect', () => resolve(null)))
    expect(await socket.emitWithAck('agent:register', { id: 'in-process', name: 'x', capabilities: [] })).toMatchObject(
      {
        ok: false,
        error: { code: 'conflict' },
      },
    )
    core.coordinator.removeAgent('in-process')
  })

  it('cancels a running task on the agent: its signal aborts and it reports nothing', async () => {
    const started = gate()
    let reason: unknown = null
    const agent = sdkAgent(core.url, {
      id: 'cancellable',
      capabilities: ['cancel-me'],
      handler: (_t, ctx) =>
        new Promise((_resolve, reject) => {
          started.release()
          ctx.signal.addEventListener('abort', () => reject((reason = ctx.signal.reason)))
        }),
    })
    await agent.connected
    const submitted = await submit(core, { name: 'c', kind: 'x', capabilities: ['cancel-me'] })
    await started.released
    const cancel = await postJson(`${core.url}/api/tasks/${submitted.id}/cancel`, {}, TEST_TOKENS.operator)
    expect(cancel.status).toBe(200)
    await until(() => reason !== null, 2000, 'the abort')
    expect(String(reason)).toMatch(/cancelled/)
    await until(() => agent.running === 0, 1000, 'the agent to be free')
    expect(task(core, submitted.id)?.status).toBe('cancelled')
    expect(core.coordinator.getAgent('cancellable')).toMatchObject({ status: 'idle', counters: { done: 0, failed: 0 } })
  })
})

describe('kinds', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  it('assigns an agent that names its kinds only tasks of those kinds, also after it registers again', async () => {
    const ran: string[] = []
    const agent = sdkAgent(core.url, {
      id: 'kinds-1',
      kinds: ['hash'],
      handler: async (t) => {
        ran.push(t.kind)
        return 'done'
      },
    })
    await agent.connected
    const report = await submit(core, { name: 'r', kind: 'report' })
    const hash = await submit(core, { name: 'h', kind: 'hash' })
    await until(() => task(core, hash.id)?.status === 'succeeded', 5000, 'the hash task')
    expect(task(core, report.id)).toMatchObject({ status: 'queued', agentId: null, attempts: 0 })
    expect(ran).toEqual(['hash'])

    // The same id, now running reports: its new registration decides.
    await agent.close()
    const again = sdkAgent(core.url, { id: 'kinds-1', kinds: ['report'], handler: async () => 'reported' })
    await again.connected
    await until(() => task(core, report.id)?.status === 'succeeded', 5000, 'the report task')
    expect(task(core, report.id)?.agentId).toBe('kinds-1')
  })

  it('refuses a registration whose kinds are not a list of names', async () => {
    const socket = rawAgent(core.url)
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    for (const kinds of [[], [''], 'hash', ['x'.repeat(65)]]) {
      const answer = await socket.emitWithAck('agent:register', {
        id: 'bad-kinds',
        name: 'bad',
        capabilities: [],
        kinds,
      } as never)
      expect(answer, JSON.stringify(kinds)).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    }
    expect(core.coordinator.getAgent('bad-kinds')).toBeUndefined()
    socket.close()
  })
})

describe('liveness', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'], { agentHeartbeatTimeoutMs: 300, agentOfflineGraceMs: 1500 })
  })
  afterAll(() => core.stop())

  it('marks a silent agent offline, closes it, requeues its task, and removes it after the grace', async () => {
    const silent = await registeredRawAgent(core.url, 'silent', ['quiet'])
    const closed = new Promise<string>((resolve) => silent.once('agent:closed', ({ reason }) => resolve(reason)))
    const assigned = new Promise<Task>((resolve) => silent.once('task:assign', ({ task: t }) => resolve(t)))
    const submitted = await submit(core, { name: 'q', kind: 'x', capabilities: ['quiet'] })
    await assigned
    expect(await closed).toBe('heartbeat_timeout')
    expect(core.coordinator.getAgent('silent')?.status).toBe('offline')
    expect(task(core, submitted.id)).toMatchObject({ status: 'queued', agentId: null, attempts: 1 })
    expect(task(core, submitted.id)?.error).toMatch(/requeued/)

    // An SDK agent heartbeating faster than the timeout stays online and takes the task over.
    const alive = sdkAgent(core.url, {
      id: 'alive',
      capabilities: ['quiet'],
      heartbeatIntervalMs: 50,
      handler: async () => {
        await new Promise((resolve) => setTimeout(resolve, 700))
        return 'finished'
      },
    })
    await alive.connected
    await until(() => task(core, submitted.id)?.status === 'succeeded', 5000, 'the requeued task to finish')
    expect(task(core, submitted.id)).toMatchObject({ agentId: 'alive', attempts: 2, result: 'finished' })
    expect(core.coordinator.getAgent('alive')?.status).toBe('idle')
    await until(() => core.coordinator.getAgent('silent') === undefined, 3000, 'the offline agent to be removed')
    expect(core.coordinator.getAgent('alive')).toBeDefined()
  })
})

describe('load', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  it('finishes 1,000 queued tasks across 8 SDK agents, each exactly once', async () => {
    const runs = new Map<string, number>()
    const startFleet = () =>
      Array.from({ length: 8 }, (_, i) =>
        sdkAgent(core.url, {
          id: `worker-${i}`,
          capabilities: ['bulk'],
          concurrency: 2,
          handler: async (t) => {
            runs.set(t.id, (runs.get(t.id) ?? 0) + 1)
            return { n: (t.payload as { n: number }).n }
          },
        }),
      )
    const { socket: viewer } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    const succeeded = new Map<string, number>()
    viewer.on('events', (events) => {
      for (const event of events) {
        const reported = taskStatusOf(event)
        if (reported?.status === 'succeeded') succeeded.set(reported.taskId, (succeeded.get(reported.taskId) ?? 0) + 1)
      }
    })
    // Queued before any agent is there, so they really wait in the queue.
    const ids: string[] = []
    for (let start = 0; start < 1000; start += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          submit(core, { name: `bulk ${start + i}`, kind: 'bulk', payload: { n: start + i }, capabilities: ['bulk'] }),
        ),
      )
      ids.push(...batch.map((t) => t.id))
    }
    expect(core.coordinator.counts().queued).toBe(1000)
    const began = Date.now()
    const fleet = startFleet()
    await Promise.all(fleet.map((agent) => agent.connected))
    await until(() => core.coordinator.totals.succeeded >= 1000, 10_000, '1,000 tasks to succeed')
    const elapsed = Date.now() - began
    await until(() => succeeded.size === 1000, 3000, 'the viewer to see every completion')

    const { body } = await getJson(`${core.url}/api/tasks?status=succeeded&limit=1000`, TEST_TOKENS.viewer)
    const listed = body as { tasks: Task[]; total: number }
    expect(listed.total).toBe(1000)
    expect(new Set(listed.tasks.map((t) => t.id))).toEqual(new Set(ids))
    for (const t of listed.tasks) {
      expect(t.attempts).toBe(1)
      expect(t.result).toEqual({ n: (t.payload as { n: number }).n })
    }
    expect(core.coordinator.totals).toMatchObject({ succeeded: 1000, failed: 0, finished: 1000 })
    expect([...runs.values()].every((count) => count === 1) && runs.size === 1000).toBe(true)
    expect([...succeeded.values()].every((count) => count === 1)).toBe(true)
    const workers = (await agents(core)).filter((a) => a.id.startsWith('worker-'))
    expect(workers.reduce((sum, a) => sum + a.counters.done, 0)).toBe(1000)
    expect(workers.every((a) => a.counters.done > 0)).toBe(true)
    expect(elapsed).toBeLessThan(10_000)
    viewer.disconnect()
  })
})
