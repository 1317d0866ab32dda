/**
 * Who may do what: every HTTP route and every Socket.IO event with no token,
 * a wrong one and each role; shell tasks from beyond this machine; token
 * rotation and the tokens file.
 */
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { io, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCore, loadConfig, type Core } from '../../src/main/core'
import type { Task } from '../../src/shared/domain'
import { closeAgents, rawAgent } from '../helpers/agents'
import {
  TEST_TOKENS,
  connectDashboard,
  dashboardClient,
  getJson,
  postJson,
  startCore,
  type DashboardSocket,
} from '../helpers/core'
import { readLogs } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const WRONG = 'wrong-token-wrong-token-0000'
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect()
  await closeAgents()
})

/** Resolves with the `connect_error` message of a refused connection. */
function refused(socket: Socket): Promise<string> {
  sockets.push(socket)
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, but should have been refused')))
    socket.once('connect_error', (error) => resolve(error.message))
  })
}

const shellTask = { name: 'remote shell', kind: 'shell', payload: { command: 'true' } }

describe('roles on every route and event', () => {
  let core: TestCore
  let taskId: string
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
    const created = await postJson(`${core.url}/api/tasks`, { name: 't', kind: 'report' }, TEST_TOKENS.operator)
    taskId = (created.body as Task).id
  })
  afterAll(() => core.stop())

  const tokens = { none: undefined, wrong: WRONG, agent: TEST_TOKENS.agent, viewer: TEST_TOKENS.viewer }

  it.each([
    ['GET', '/api/snapshot'],
    ['GET', '/api/cluster'],
    ['GET', '/api/agents'],
    ['GET', '/api/tasks'],
    ['GET', '/api/tasks/ID'],
    ['GET', '/metrics'],
    ['POST', '/api/tasks'],
    ['POST', '/api/tasks/ID/cancel'],
    ['GET', '/api/schedules'],
    ['POST', '/api/schedules'],
    ['POST', '/api/schedules/ID/run'],
  ])('%s %s: 401 without a token or with a wrong one, 403 for the wrong role', async (method, route) => {
    const url = `${core.url}${route.replace('ID', taskId)}`
    const writes = method === 'POST'
    for (const [who, token] of Object.entries(tokens)) {
      if (who === 'viewer' && !writes) continue
      const response = await fetch(url, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(writes ? { 'content-type': 'application/json' } : {}),
        },
        ...(writes ? { body: JSON.stringify({ name: 'x', kind: 'report' }) } : {}),
      })
      const expected = who === 'none' || who === 'wrong' ? 401 : 403
      expect({ who, status: response.status }).toEqual({ who, status: expected })
      expect(await response.json()).toMatchObject({
        error: { code: expected === 401 ? 'unauthorized' : 'forbidden', message: expect.any(String) },
      })
    }
    expect(core.coordinator.listTasks().total).toBe(1)
  })

  it('answers /healthz to anyone', async () => {
    expect((await getJson(`${core.url}/healthz`)).status).toBe(200)
  })

  it('refuses /dashboard without a token, with a wrong or malformed one, and with an agent token', async () => {
    expect(await refused(dashboardClient(core.url, undefined))).toBe('unauthorized')
    expect(await refused(dashboardClient(core.url, WRONG))).toBe('unauthorized')
    expect(await refused(dashboardClient(core.url, TEST_TOKENS.agent))).toBe('forbidden')
    for (const token of [42, ['x'], { token: TEST_TOKENS.operator }, 'x'.repeat(20_000), null]) {
      const socket = io(`${core.url}/dashboard`, {
        auth: { token } as never,
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      })
      expect(await refused(socket)).toBe('unauthorized')
    }
  })

  it('refuses /agents without a token and with viewer or operator tokens', async () => {
    expect(await refused(rawAgent(core.url, null) as unknown as Socket)).toBe('unauthorized')
    expect(await refused(rawAgent(core.url, WRONG) as unknown as Socket)).toBe('unauthorized')
    expect(await refused(rawAgent(core.url, TEST_TOKENS.viewer) as unknown as Socket)).toBe('forbidden')
    expect(await refused(rawAgent(core.url, TEST_TOKENS.operator) as unknown as Socket)).toBe('forbidden')
  })

  it('lets a viewer run no operator command, and says it needs an operator token', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket)
    const commands: [string, unknown][] = [
      ['task:submit', { name: 'x', kind: 'report' }],
      ['task:cancel', { taskId }],
      ['task:retry', { taskId }],
      ['task:bulk', { action: 'cancel', ids: [taskId] }],
      ['agent:pause', { agentId: 'any' }],
      ['agent:resume', { agentId: 'any' }],
      ['alert:ack', { alertId: 'any' }],
      ['kind:update', { kind: 'report', paused: true }],
      ['schedule:create', { name: 'x', cron: '0 * * * *', task: { name: 'x', kind: 'report' } }],
      ['schedule:run', { scheduleId: 'any' }],
    ]
    for (const [event, payload] of commands) {
      const answer = await (socket as unknown as Socket).emitWithAck(event, payload)
      expect({ event, answer }).toMatchObject({
        event,
        answer: { ok: false, error: { code: 'forbidden', message: expect.stringContaining('operator token') } },
      })
    }
    expect(core.coordinator.listTasks().total).toBe(1)
    expect(core.coordinator.getTask(taskId)?.status).toBe('queued')
    expect(core.coordinator.configuredKinds().size).toBe(0)
  })
})

describe('shell tasks from beyond this machine', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
  })
  afterAll(() => core.stop())

  const viaProxy = { 'x-forwarded-for': '203.0.113.50' }

  it('refuses them over HTTP and Socket.IO when a proxy forwarded the request, and says how to allow them', async () => {
    const response = await fetch(`${core.url}/api/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS.operator}`, ...viaProxy },
      body: JSON.stringify(shellTask),
    })
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({
      error: { code: 'forbidden', message: expect.stringContaining('--allow-remote-shell') },
    })
    const socket: DashboardSocket = dashboardClient(core.url, TEST_TOKENS.operator, { extraHeaders: viaProxy })
    sockets.push(socket)
    const answer = await socket.emitWithAck('task:submit', shellTask)
    expect(answer).toMatchObject({ ok: false, error: { code: 'forbidden', message: /--allow-remote-shell/ } })
    // Other kinds are fine from anywhere.
    expect((await socket.emitWithAck('task:submit', { name: 'r', kind: 'report' })).ok).toBe(true)
    expect(core.coordinator.listTasks().tasks.map((t) => t.kind)).toEqual(['report'])
  })

  it('refuses a schedule of a shell task or workflow when a proxy forwarded the request, storing nothing', async () => {
    const hourly = { name: 'remote shell hourly', cron: '0 * * * *' }
    for (const body of [
      { ...hourly, task: shellTask },
      { ...hourly, workflow: { name: 'w', tasks: [{ key: 'a', ...shellTask }] } },
    ]) {
      const response = await fetch(`${core.url}/api/schedules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS.operator}`, ...viaProxy },
        body: JSON.stringify(body),
      })
      expect(response.status).toBe(403)
      expect(await response.json()).toMatchObject({
        error: { message: expect.stringContaining('--allow-remote-shell') },
      })
    }
    expect(await getJson(`${core.url}/api/schedules`, TEST_TOKENS.viewer)).toMatchObject({ body: { schedules: [] } })
  })

  it('accepts them from this machine itself', async () => {
    const created = await postJson(`${core.url}/api/tasks`, shellTask, TEST_TOKENS.operator)
    expect(created).toMatchObject({ status: 201, body: { kind: 'shell', status: 'queued' } })
  })

  it('accepts them from anywhere with --allow-remote-shell', async () => {
    const open = await startCore(['--no-demo', '--allow-remote-shell'])
    try {
      const response = await fetch(`${open.url}/api/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS.operator}`, ...viaProxy },
        body: JSON.stringify(shellTask),
      })
      expect(response.status).toBe(201)
      const socket: DashboardSocket = dashboardClient(open.url, TEST_TOKENS.operator, { extraHeaders: viaProxy })
      sockets.push(socket)
      expect(await socket.emitWithAck('task:submit', shellTask)).toMatchObject({ ok: true })
    } finally {
      await open.stop()
    }
  })

  it('reads --allow-remote-shell from the environment too, off by default', () => {
    expect(loadConfig([], {}).allowRemoteShell).toBe(false)
    expect(loadConfig([], { SWARM_MONITOR_ALLOW_REMOTE_SHELL: '1' }).allowRemoteShell).toBe(true)
    expect(loadConfig([], { SWARM_MONITOR_ALLOW_REMOTE_SHELL: 'no' }).allowRemoteShell).toBe(false)
  })
})

describe('tokens file and --rotate-tokens', () => {
  /** A core on its own data dir, with tokens from the file unless `env` fixes some. */
  async function start(dataDir: string, argv: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Core> {
    const config = loadConfig(['--port', '0', '--data-dir', dataDir, '--no-demo', '--local-agents', '0', ...argv], {})
    const core = createCore(config, { console: false, env })
    await core.start()
    return core
  }
  const tokensFile = (dir: string) => join(dir, 'tokens.json')

  it('keeps generated tokens in a 0600 file, and rotation replaces all of them, even from a wider mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-rotate-'))
    const first = await start(dir)
    const old = { ...first.tokens }
    await first.stop()
    expect(statSync(tokensFile(dir)).mode & 0o777).toBe(0o600)
    chmodSync(tokensFile(dir), 0o644)

    const second = await start(dir, ['--rotate-tokens'])
    try {
      const fresh = second.tokens
      for (const role of ['operator', 'viewer', 'agent'] as const) expect(fresh[role]).not.toBe(old[role])
      expect(JSON.parse(readFileSync(tokensFile(dir), 'utf8'))).toEqual(fresh)
      expect(statSync(tokensFile(dir)).mode & 0o777).toBe(0o600)
      expect((await getJson(`${second.url}/api/snapshot`, old.operator)).status).toBe(401)
      expect((await getJson(`${second.url}/api/snapshot`, fresh.operator)).status).toBe(200)
    } finally {
      await second.stop()
    }
    const log = readLogs(dir)
    expect(log).toContain('tokens rotated: new tokens written to')
    for (const token of Object.values(old)) expect(log).not.toContain(token)

    // Without the flag the next start keeps what rotation wrote.
    const third = await start(dir)
    expect(third.tokens).toEqual(JSON.parse(readFileSync(tokensFile(dir), 'utf8')))
    await third.stop()
  })

  it('leaves tokens fixed by the environment alone, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-rotate-'))
    const env = { SWARM_MONITOR_OPERATOR_TOKEN: TEST_TOKENS.operator }
    const core = await start(dir, ['--rotate-tokens'], env)
    expect(core.tokens.operator).toBe(TEST_TOKENS.operator)
    expect(readFileSync(tokensFile(dir), 'utf8')).not.toContain(TEST_TOKENS.operator)
    await core.stop()
    expect(readLogs(dir)).toMatch(/the operator token\(s\) come from the environment and were not rotated/)
  })

  it('is not a config file setting: rotating at every start would lock everyone out', () => {
    expect(() => loadConfig(['--config', join(__dirname, 'fixtures', 'rotate.json')], {})).toThrow(
      /unknown setting "rotateTokens"/,
    )
  })
})
