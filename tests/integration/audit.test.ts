/**
 * The audit trail end to end on a real server: every operator command over
 * Socket.IO (submit, cancel, retry, pause, resume, alert ack) and over HTTP
 * (submit, cancel, saved views), done or refused, and every refused token on
 * both doors, is one entry — time, token name and role, address, channel,
 * action, target, outcome — in `GET /api/audit` (operators only; filters and
 * cursor paging) and one JSON line in the log, without the token. Retention
 * by count and by age, applied at start.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditEntry, AuditPage } from '../../src/shared/audit'
import type { Snapshot } from '../../src/shared/protocol'
import type { Task } from '../../src/shared/domain'
import { createCore, loadConfig, type Core } from '../../src/main/core'
import { closeAgents, rawAgent, registeredRawAgent } from '../helpers/agents'
import {
  connectDashboard,
  dashboardClient,
  getJson,
  postJson,
  refusal,
  startCore,
  TEST_TOKENS,
  TOKEN_ENV,
} from '../helpers/core'
import { readLogs } from '../security/support'

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await closeAgents()
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

async function audit(url: string, query = '', token = TEST_TOKENS.operator): Promise<AuditPage> {
  const { status, body } = await getJson(`${url}/api/audit${query}`, token)
  if (status !== 200) throw new Error(`GET /api/audit${query} answered ${status}: ${JSON.stringify(body)}`)
  return body as AuditPage
}

const entry = (entries: AuditEntry[], action: string, fields: Partial<AuditEntry> = {}) =>
  entries.find((e) => e.action === action && Object.entries(fields).every(([k, v]) => e[k as keyof AuditEntry] === v))

describe('audit trail', () => {
  it('records each operator command over Socket.IO, done or refused, with who, where and what', async () => {
    const core = await startCore(['--no-demo'])
    stops.push(() => core.stop())
    await registeredRawAgent(core.url, 'worker', ['w'])
    const goner = await registeredRawAgent(core.url, 'goner')
    goner.disconnect()
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.operator)
    const submitted = await socket.emitWithAck('task:submit', {
      name: 'nobody runs it',
      kind: 'k',
      capabilities: ['none'],
    })
    expect(submitted.ok).toBe(true)
    const taskId = (submitted as { data: Task }).data.id
    expect((await socket.emitWithAck('task:cancel', { taskId })).ok).toBe(true)
    expect((await socket.emitWithAck('task:retry', { taskId })).ok).toBe(true)
    expect((await socket.emitWithAck('agent:pause', { agentId: 'worker' })).ok).toBe(true)
    expect((await socket.emitWithAck('agent:resume', { agentId: 'worker' })).ok).toBe(true)
    let alertId = ''
    const deadline = Date.now() + 5000
    while (!alertId && Date.now() < deadline) {
      const snapshot = (await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)).body as Snapshot
      alertId = snapshot.alerts.find((a) => a.agentId === 'goner')?.id ?? ''
      if (!alertId) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(alertId, 'the disconnect alert').not.toBe('')
    expect((await socket.emitWithAck('alert:ack', { alertId })).ok).toBe(true)
    // Refused: a state that forbids it, input that is not valid, a viewer.
    expect((await socket.emitWithAck('agent:pause', { agentId: 'nope' })).ok).toBe(false)
    expect((await socket.emitWithAck('task:cancel', { taskId: 42 } as never)).ok).toBe(false)
    const viewer = await connectDashboard(core.url, TEST_TOKENS.viewer)
    expect((await viewer.socket.emitWithAck('task:cancel', { taskId })).ok).toBe(false)

    const { entries, total } = await audit(core.url)
    expect(total).toBe(entries.length)
    const base = { actor: 'operator', role: 'operator', via: 'socket', outcome: 'ok' } as const
    expect(entry(entries, 'task:submit', { ...base, target: taskId })).toBeDefined()
    expect(entry(entries, 'task:cancel', { ...base, target: taskId })).toBeDefined()
    expect(entry(entries, 'task:retry', { ...base, target: taskId })).toBeDefined()
    expect(entry(entries, 'agent:pause', { ...base, target: 'worker' })).toBeDefined()
    expect(entry(entries, 'agent:resume', { ...base, target: 'worker' })).toBeDefined()
    expect(entry(entries, 'alert:ack', { ...base, target: alertId })).toBeDefined()
    expect(entry(entries, 'agent:pause', { outcome: 'refused', target: 'nope', code: 'not_found' })).toBeDefined()
    expect(entry(entries, 'task:cancel', { outcome: 'refused', target: null, code: 'bad_request' })).toBeDefined()
    expect(
      entry(entries, 'task:cancel', {
        actor: 'viewer',
        role: 'viewer',
        outcome: 'refused',
        code: 'forbidden',
        target: taskId,
      }),
    ).toBeDefined()
    for (const e of entries) {
      expect(e.address).toMatch(/127\.0\.0\.1/)
      expect(e.at).toBeGreaterThan(Date.now() - 60_000)
    }
  })

  it('records HTTP commands, saved views and every refused token on both doors; lists them to operators only', async () => {
    const core = await startCore(['--no-demo'])
    stops.push(() => core.stop())
    const created = await postJson(
      `${core.url}/api/tasks`,
      { name: 'over http', kind: 'k', capabilities: ['none'] },
      TEST_TOKENS.operator,
    )
    const taskId = (created.body as Task).id
    expect((await postJson(`${core.url}/api/tasks/${taskId}/cancel`, {}, TEST_TOKENS.operator)).status).toBe(200)
    expect((await postJson(`${core.url}/api/tasks/${taskId}/cancel`, {}, TEST_TOKENS.operator)).status).toBe(409)
    const view = { name: 'Failed', view: 'tasks', params: { 'tasks.status': 'failed' } }
    expect((await postJson(`${core.url}/api/views`, view, TEST_TOKENS.operator)).status).toBe(201)
    // Refused tokens: none, a wrong one, a viewer at an operator's door, an agent at a viewer's.
    expect((await postJson(`${core.url}/api/tasks`, {}, undefined)).status).toBe(401)
    expect((await getJson(`${core.url}/api/snapshot`, 'wrong-token-wrong-token')).status).toBe(401)
    expect((await postJson(`${core.url}/api/views`, view, TEST_TOKENS.viewer)).status).toBe(403)
    expect((await getJson(`${core.url}/api/agents`, TEST_TOKENS.agent)).status).toBe(403)
    expect(await refusal(dashboardClient(core.url, 'wrong-token-wrong-token'))).toBe('unauthorized')
    expect(await refusal(dashboardClient(core.url, TEST_TOKENS.agent))).toBe('forbidden')
    const badAgent = rawAgent(core.url, TEST_TOKENS.viewer)
    await new Promise<void>((resolve) => badAgent.once('connect_error', () => resolve()))
    // The audit is for operators: a viewer is refused (and that is recorded too).
    expect((await getJson(`${core.url}/api/audit`, TEST_TOKENS.viewer)).status).toBe(403)

    const { entries } = await audit(core.url, '?limit=500')
    const http = { via: 'http', actor: 'operator' } as const
    expect(entry(entries, 'task:submit', { ...http, outcome: 'ok', target: taskId })).toBeDefined()
    expect(entry(entries, 'task:cancel', { ...http, outcome: 'ok', target: taskId })).toBeDefined()
    expect(entry(entries, 'task:cancel', { ...http, outcome: 'refused', code: 'conflict' })).toBeDefined()
    expect(entry(entries, 'view:save', { ...http, outcome: 'ok', target: 'Failed' })).toBeDefined()
    const refused = { action: 'auth', outcome: 'refused' } as const
    expect(
      entry(entries, 'auth', {
        ...refused,
        via: 'http',
        actor: null,
        target: 'POST /api/tasks',
        code: 'unauthorized',
        message: 'no token',
      }),
    ).toBeDefined()
    expect(
      entry(entries, 'auth', {
        ...refused,
        via: 'http',
        actor: null,
        target: 'GET /api/snapshot',
        message: 'invalid token',
      }),
    ).toBeDefined()
    expect(
      entry(entries, 'auth', {
        ...refused,
        actor: 'viewer',
        role: 'viewer',
        target: 'POST /api/views',
        code: 'forbidden',
      }),
    ).toBeDefined()
    expect(entry(entries, 'auth', { ...refused, actor: 'agent', target: 'GET /api/agents' })).toBeDefined()
    expect(entry(entries, 'auth', { ...refused, via: 'socket', target: '/dashboard', actor: null })).toBeDefined()
    expect(
      entry(entries, 'auth', { ...refused, via: 'socket', target: '/dashboard', actor: 'agent', code: 'forbidden' }),
    ).toBeDefined()
    expect(entry(entries, 'auth', { ...refused, via: 'socket', target: '/agents', actor: 'viewer' })).toBeDefined()
    expect(entry(entries, 'auth', { ...refused, actor: 'viewer', target: 'GET /api/audit' })).toBeDefined()
  })

  it('filters and pages with a cursor; a bad query or cursor is a 400', async () => {
    const core = await startCore(['--no-demo'])
    stops.push(() => core.stop())
    for (let i = 0; i < 5; i++) await getJson(`${core.url}/api/snapshot`, `wrong-token-${i}-wrong-token`)
    await postJson(`${core.url}/api/tasks`, { name: 'one', kind: 'k', capabilities: ['none'] }, TEST_TOKENS.operator)
    const all = await audit(core.url)
    expect(all.total).toBe(6)
    const refused = await audit(core.url, '?action=auth&outcome=refused&limit=2')
    expect(refused.total).toBe(5)
    const seen = [...refused.entries]
    let next = refused.next
    while (next) {
      const page = await audit(core.url, `?action=auth&outcome=refused&limit=2&cursor=${next}`)
      seen.push(...page.entries)
      next = page.next
    }
    expect(seen).toHaveLength(5)
    expect(new Set(seen.map((e) => e.id)).size).toBe(5)
    expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort((a, b) => b - a))
    expect((await audit(core.url, '?actor=operator')).entries.map((e) => e.action)).toEqual(['task:submit'])
    const since = all.entries.at(-1)!.at
    expect((await audit(core.url, `?since=${since}&until=${Date.now() + 1000}`)).total).toBe(6)
    for (const bad of [
      '?limit=0',
      '?limit=501',
      '?outcome=meh',
      '?role=god',
      '?since=-1',
      '?colour=red',
      '?cursor=abc',
    ]) {
      const answer = await getJson(`${core.url}/api/audit${bad}`, TEST_TOKENS.operator)
      expect(answer.status, bad).toBe(400)
      expect(answer.body).toMatchObject({ error: { code: 'bad_request' } })
    }
  })

  it('writes one JSON line per entry to the log, marked "audit", with no token in it', async () => {
    const core = await startCore(['--no-demo'])
    const named = 'secret-looking-token-zzzzzzzz'
    await getJson(`${core.url}/api/snapshot`, named)
    await refusal(dashboardClient(core.url, named))
    await postJson(`${core.url}/api/tasks`, { name: 'logged', kind: 'k', capabilities: ['none'] }, TEST_TOKENS.operator)
    const { total } = await audit(core.url)
    await core.stop()
    const lines = readLogs(core.dataDir)
      .split('\n')
      .filter((line) => line.includes('"audit":true'))
    expect(lines).toHaveLength(total)
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>
      expect(parsed).toMatchObject({
        audit: true,
        address: expect.any(String),
        action: expect.any(String),
        outcome: expect.any(String),
      })
    }
    const text = lines.join('\n')
    for (const secret of [named, ...Object.values(TEST_TOKENS)]) expect(text).not.toContain(secret)
  })
})

describe('audit retention', () => {
  async function start(dataDir: string, argv: string[]): Promise<Core> {
    const config = loadConfig(
      ['--port', '0', '--data-dir', dataDir, '--no-demo', '--local-agents', '0', '--log-level', 'warn', ...argv],
      {},
    )
    const core = createCore(config, { console: false, env: TOKEN_ENV })
    await core.start()
    return core
  }

  it('keeps none older than --audit-retention-days and the newest --audit-retention-entries, applied at start', async () => {
    const first = await startCore(['--no-demo'])
    for (let i = 0; i < 6; i++) await getJson(`${first.url}/api/snapshot`, `wrong-token-${i}-wrong-token`)
    expect((await audit(first.url)).total).toBe(6)
    await first.stop()
    // One entry from long ago, as a year-old server would have left it (before the others).
    const db = new Database(join(first.dataDir, 'swarm.db'))
    db.prepare(
      "INSERT INTO audit (id, at, actor, role, address, via, action, target, outcome) VALUES (0, ?, 'operator', 'operator', '127.0.0.1', 'http', 'task:cancel', 'old', 'ok')",
    ).run(Date.now() - 400 * 24 * 3600 * 1000)
    db.close()

    const second = await start(first.dataDir, ['--audit-retention-days', '30'])
    const aged = await audit(second.url)
    expect(aged.total).toBe(6)
    expect(aged.entries.some((e) => e.target === 'old')).toBe(false)
    await second.stop()
    const third = await start(first.dataDir, ['--audit-retention-entries', '4'])
    stops.push(() => third.stop())
    const counted = await audit(third.url)
    expect(counted.total).toBe(4)
    expect(counted.entries.map((e) => e.id)).toEqual(aged.entries.slice(0, 4).map((e) => e.id))
  })
})
