/**
 * Input limits on real servers: oversized messages and bodies, the
 * per-connection token bucket and its disconnect, the per-address HTTP
 * limit, unknown events, nesting.
 */
import { io, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Result } from '../../src/shared/result'
import { closeAgents, rawAgent, registeredRawAgent } from '../helpers/agents'
import { TEST_TOKENS, connectDashboard, postJson, startCore, until } from '../helpers/core'
import { healthy, metric, readLogs, sleep } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect()
  await closeAgents()
})

async function viewer(url: string, token: string = TEST_TOKENS.operator): Promise<Socket> {
  const { socket } = await connectDashboard(url, token)
  sockets.push(socket as unknown as Socket)
  return socket as unknown as Socket
}

function disconnected(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)))
}

const codes = (answers: Result<unknown>[]) =>
  answers.reduce<Record<string, number>>((count, answer) => {
    const code = answer.ok ? 'ok' : answer.error.code
    count[code] = (count[code] ?? 0) + 1
    return count
  }, {})

describe('oversized input', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  it('answers an HTTP body over 64 KiB with 413 and stays up', async () => {
    const huge = await postJson(
      `${core.url}/api/tasks`,
      { name: 'a', kind: 'report', payload: { blob: 'x'.repeat(70_000) } },
      TEST_TOKENS.operator,
    )
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } })
    await healthy(core.url)
  })

  it.each(['websocket', 'polling'] as const)(
    'closes the connection that sends a Socket.IO message over 64 KiB (%s); the server and other clients carry on',
    async (transport) => {
      const bystander = await viewer(core.url, TEST_TOKENS.viewer)
      const sender = io(`${core.url}/dashboard`, {
        auth: { token: TEST_TOKENS.operator },
        transports: [transport],
        reconnection: false,
        forceNew: true,
      })
      sockets.push(sender)
      await new Promise<void>((resolve) => sender.once('snapshot', () => resolve()))
      const gone = disconnected(sender)
      sender.emit('task:submit', { name: 'big', kind: 'report', payload: { blob: 'x'.repeat(70_000) } }, () => {
        throw new Error('an oversized message must not be answered')
      })
      expect(await gone).toMatch(/transport (close|error)/)
      expect(core.coordinator.listTasks().total).toBe(0)
      await healthy(core.url)
      expect(bystander.connected).toBe(true)
      expect(await bystander.emitWithAck('ping')).toMatchObject({ ok: true })
      // The same client may connect again and is served normally.
      const again = await viewer(core.url)
      expect(await again.emitWithAck('ping')).toMatchObject({ ok: true })
    },
  )

  it('refuses messages and bodies nested deeper than 32 levels', async () => {
    let deep: unknown = 'bottom'
    for (let i = 0; i < 40; i++) deep = { d: deep }
    const socket = await viewer(core.url)
    const answer = await socket.emitWithAck('task:submit', { name: 'deep', kind: 'report', payload: { deep } })
    expect(answer).toMatchObject({ ok: false, error: { code: 'bad_request', message: /deeper than 32/ } })
    const http = await postJson(
      `${core.url}/api/tasks`,
      { name: 'deep', kind: 'report', payload: { deep } },
      TEST_TOKENS.operator,
    )
    expect(http).toMatchObject({ status: 400, body: { error: { code: 'bad_request', message: /deeper than 32/ } } })
    expect(core.coordinator.listTasks().total).toBe(0)
  })
})

describe('unknown events', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  const names = ['bogus', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(500)]

  it('ignores them on /dashboard, answers an ack with bad_request, and counts them', async () => {
    const socket = await viewer(core.url)
    for (const name of names) {
      const answer = await socket.emitWithAck(name, { anything: 1 })
      expect(answer).toMatchObject({ ok: false, error: { code: 'bad_request', message: /unknown event/ } })
      socket.emit(name, 'no ack')
    }
    expect(await socket.emitWithAck('ping')).toMatchObject({ ok: true })
    expect(await metric(core.url, 'swarm_unknown_events_total', { namespace: '/dashboard' })).toBe(names.length * 2)
  })

  it('ignores and counts them on /agents too', async () => {
    const agent = await registeredRawAgent(core.url, 'counted')
    for (const name of names) {
      const answer = await (agent as unknown as Socket).emitWithAck(name, {})
      expect(answer).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    }
    expect(await metric(core.url, 'swarm_unknown_events_total', { namespace: '/agents' })).toBe(names.length)
  })
})

describe('socket rate limit', () => {
  // Small numbers so the test is quick; the defaults (50/s, bursts of 100, 10 s) are checked below.
  const limits = { socketPerSecond: 5, socketBurst: 10, socketAbuseMs: 1500 }
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'], { limits })
  })
  afterAll(() => core.stop())

  it('answers rate_limited past the burst and does not process those messages', async () => {
    const socket = await viewer(core.url)
    const answers = (await Promise.all(
      Array.from({ length: 40 }, (_, i) => socket.emitWithAck('task:submit', { name: `t${i}`, kind: 'report' })),
    )) as Result<unknown>[]
    const count = codes(answers)
    expect(count.ok).toBeGreaterThanOrEqual(10)
    expect(count.rate_limited).toBeGreaterThanOrEqual(20)
    expect(core.coordinator.listTasks().total).toBe(count.ok)
    const refusal = answers.find((a) => !a.ok)
    expect(refusal).toMatchObject({ error: { message: /5 a second \(bursts of 10\)/ } })
    expect(await metric(core.url, 'swarm_rate_limited_total', { via: '/dashboard' })).toBe(count.rate_limited)
    await sleep(1200)
    expect(await socket.emitWithAck('ping')).toMatchObject({ ok: true })
  })

  it('disconnects a client that keeps flooding, says why in the log, and serves the others', async () => {
    const bystander = await viewer(core.url, TEST_TOKENS.viewer)
    const flooder = await viewer(core.url)
    const gone = disconnected(flooder)
    const flood = setInterval(() => {
      for (let i = 0; i < 5; i++) flooder.emit('ping', () => {})
    }, 20)
    try {
      expect(await gone).toBe('io server disconnect')
    } finally {
      clearInterval(flood)
    }
    expect(await bystander.emitWithAck('ping')).toMatchObject({ ok: true })
    await healthy(core.url)
  })

  it('limits agents the same way, but never refuses the final report of a task the agent holds', async () => {
    // Earlier tests left queued tasks any agent may take: whichever comes first is this agent's.
    const agent = rawAgent(core.url) as unknown as Socket
    const assigned = new Promise<string>((resolve) =>
      agent.once('task:assign', ({ task }: { task: { id: string } }) => resolve(task.id)),
    )
    await postJson(`${core.url}/api/tasks`, { name: 'c', kind: 'chat' }, TEST_TOKENS.operator)
    expect(await agent.emitWithAck('agent:register', { id: 'chatty', name: 'chatty', capabilities: [] })).toMatchObject(
      {
        ok: true,
      },
    )
    const taskId = await assigned
    const logs = (await Promise.all(
      Array.from({ length: 30 }, () => agent.emitWithAck('log', { taskId, level: 'info', message: 'line' })),
    )) as Result<unknown>[]
    expect(codes(logs).rate_limited).toBeGreaterThan(0)
    expect(await agent.emitWithAck('task:complete', { taskId, result: 42 })).toEqual({ ok: true, data: null })
    expect(core.coordinator.getTask(taskId)).toMatchObject({ status: 'succeeded', result: 42 })
    expect(await agent.emitWithAck('task:complete', { taskId })).toMatchObject({ ok: false })
    expect(await metric(core.url, 'swarm_rate_limited_total', { via: '/agents' })).toBeGreaterThan(0)
  })

  it('disconnects a flooding agent', async () => {
    const agent = (await registeredRawAgent(core.url, 'flooder')) as unknown as Socket
    const gone = disconnected(agent)
    const flood = setInterval(() => {
      for (let i = 0; i < 5; i++) agent.emit('agent:heartbeat', () => {})
    }, 20)
    try {
      expect(await gone).toBe('io server disconnect')
    } finally {
      clearInterval(flood)
    }
  })

  it('logs each flood once and the disconnect with its reason', async () => {
    await core.stop()
    const log = readLogs(core.dataDir)
    expect(log).toMatch(/"msg":"connection closed for flooding"/)
    expect(log).toMatch(/"reason":"over 5 messages a second for 1.5 s"/)
    const warnings = log.split('\n').filter((line) => line.includes('"msg":"rate limited"'))
    expect(warnings.length).toBeGreaterThan(0)
    expect(warnings.length).toBeLessThan(20)
    core = await startCore(['--no-demo'], { limits })
  })

  it('has the documented defaults: 100 at once, then 50 a second', async () => {
    const defaults = await startCore(['--no-demo'])
    try {
      const { socket } = await connectDashboard(defaults.url, TEST_TOKENS.viewer)
      sockets.push(socket as unknown as Socket)
      const answers = (await Promise.all(
        Array.from({ length: 400 }, () => socket.emitWithAck('ping')),
      )) as Result<unknown>[]
      const count = codes(answers)
      // However slowly this machine runs the test, 400 at once cannot all fit in 100 + 50/s.
      expect(count.ok).toBeGreaterThanOrEqual(100)
      expect(count.rate_limited).toBeGreaterThan(0)
      expect((count.ok ?? 0) + (count.rate_limited ?? 0)).toBe(400)
    } finally {
      await defaults.stop()
    }
  })
})

describe('HTTP rate limit', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'], { limits: { httpPerMinute: 5 } })
  })
  afterAll(() => core.stop())

  const from = (address: string) => ({
    authorization: `Bearer ${TEST_TOKENS.viewer}`,
    'x-forwarded-for': address,
  })

  it('answers 429 in the JSON error shape once an address used its share, counting refused tokens too', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 4; i++)
      statuses.push((await fetch(`${core.url}/api/snapshot`, { headers: from('203.0.113.1') })).status)
    // Guessing tokens counts as much as using one.
    statuses.push(
      (
        await fetch(`${core.url}/api/snapshot`, {
          headers: { ...from('203.0.113.1'), authorization: 'Bearer guess-guess-guess' },
        })
      ).status,
    )
    const limited = await fetch(`${core.url}/api/snapshot`, { headers: from('203.0.113.1') })
    expect(statuses).toEqual([200, 200, 200, 200, 401])
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await limited.json()).toMatchObject({
      error: { code: 'rate_limited', message: /5 a minute/ },
    })
    expect(await metric(core.url, 'swarm_rate_limited_total', { via: 'http' })).toBe(1)
  })

  it('keeps other addresses, /healthz, the dashboard and this machine itself out of it', async () => {
    expect((await fetch(`${core.url}/api/snapshot`, { headers: from('203.0.113.2') })).status).toBe(200)
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${core.url}/healthz`, { headers: from('203.0.113.1') })).status).toBe(200)
      expect((await fetch(`${core.url}/`, { headers: from('203.0.113.1') })).status).toBe(503)
      expect(
        (await fetch(`${core.url}/api/snapshot`, { headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` } }))
          .status,
      ).toBe(200)
    }
  })
})

describe('a connection refused by the limit comes back', () => {
  it('lets the disconnected client connect again and be served', async () => {
    const core = await startCore(['--no-demo'], { limits: { socketPerSecond: 5, socketBurst: 5, socketAbuseMs: 500 } })
    try {
      const flooder = await viewer(core.url)
      const gone = disconnected(flooder)
      const flood = setInterval(() => flooder.emit('ping', () => {}), 5)
      await gone
      clearInterval(flood)
      const back = await viewer(core.url)
      await until(() => back.connected, 2000, 'reconnect')
      expect(await back.emitWithAck('ping')).toMatchObject({ ok: true })
    } finally {
      await core.stop()
    }
  })
})
