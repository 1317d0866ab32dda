/**
 * Hostile task submissions: strings the operating system cannot take (a NUL
 * byte) are refused where the client hears why, a task stored before that
 * rule cannot crash the server that restores it, and a client cannot decide
 * that its task is kept out of the history.
 */
import Database from 'better-sqlite3'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Task, TaskDetail } from '../../src/shared/domain'
import { TEST_TOKENS, TOKEN_ENV, connectDashboard, getJson, postJson, startCore, until } from '../helpers/core'
import { builtEntry, run, type RunningProcess } from '../helpers/process'
import { healthy } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

describe('a NUL byte in a shell task', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--no-demo', '--local-agents', '1'])
  })
  afterAll(() => core.stop())

  it.each([
    ['command', { command: 'echo a\u0000b' }, 'payload.command'],
    ['cwd', { command: 'true', cwd: '/tmp\u0000/x' }, 'payload.cwd'],
    ['env value', { command: 'true', env: { GREETING: 'hi\u0000there' } }, 'payload.env.GREETING'],
  ])('in the %s is refused with 400 naming the field, and nothing is queued', async (_where, payload, field) => {
    const response = await postJson(
      `${core.url}/api/tasks`,
      { name: 'nul', kind: 'shell', payload },
      TEST_TOKENS.operator,
    )
    expect(response.status).toBe(400)
    expect(response.body).toMatchObject({ error: { code: 'bad_request' } })
    const message = (response.body as { error: { message: string } }).error.message
    expect(message).toContain(field)
    expect(message).toContain('NUL byte')
    expect(core.coordinator.listTasks().total).toBe(0)
    await healthy(core.url)
  })

  it('is refused over Socket.IO too', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.operator)
    try {
      const answer = await socket.emitWithAck('task:submit', {
        name: 'nul',
        kind: 'shell',
        payload: { command: 'echo \u0000' },
      })
      expect(answer).toMatchObject({ ok: false, error: { code: 'bad_request' } })
      expect(core.coordinator.listTasks().total).toBe(0)
    } finally {
      socket.disconnect()
    }
  })
})

describe('a task stored before validation refused it', () => {
  const running: RunningProcess[] = []
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop()))
  })

  async function serve(dataDir: string): Promise<string> {
    const server = run(
      builtEntry('cli'),
      ['--port', '0', '--data-dir', dataDir, '--no-demo', '--local-agents', '1', '--log-level', 'warn'],
      TOKEN_ENV,
    )
    running.push(server)
    const [, url] = await server.waitFor(/listening on (http:\S+)/)
    return url!
  }

  it('ends failed with a reason at restart instead of killing the server again and again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-nul-'))
    // A first start creates the database; a task goes in through the API and comes out as a template.
    const url = await serve(dataDir)
    const accepted = await postJson(
      `${url}/api/tasks`,
      { name: 'poison', kind: 'shell', payload: { command: 'sleep 30' } },
      TEST_TOKENS.operator,
    )
    expect(accepted.status).toBe(201)
    await Promise.all(running.splice(0).map((server) => server.stop()))

    // What a server before this fix stored: an unfinished shell task whose command holds a NUL byte.
    const db = new Database(join(dataDir, 'swarm.db'))
    const row = db.prepare<[], { id: string; data: string }>('SELECT id, data FROM tasks').get()!
    const task = JSON.parse(row.data) as Task
    const poisoned = { ...task, status: 'queued', payload: { command: 'echo a\u0000b' } }
    db.prepare('UPDATE tasks SET status = ?, finished_at = NULL, data = ? WHERE id = ?').run(
      'queued',
      JSON.stringify(poisoned),
      row.id,
    )
    db.close()

    for (let start = 0; start < 2; start++) {
      const again = await serve(dataDir)
      let detail: TaskDetail | null = null
      const deadline = Date.now() + 10_000
      while (detail?.status !== 'failed' && Date.now() < deadline) {
        detail = (await getJson(`${again}/api/tasks/${row.id}`, TEST_TOKENS.viewer)).body as TaskDetail
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(detail).toMatchObject({ status: 'failed', error: expect.stringMatching(/NUL byte/) })
      await healthy(again)
      await Promise.all(running.splice(0).map((server) => server.stop()))
    }
  })
})

describe('who decides that a task is kept out of the history', () => {
  it('is the server: a client payload saying "demo": true is stored and survives a restart with its logs', async () => {
    const first = await startCore(['--no-demo', '--local-agents', '1'])
    const submitted = await postJson(
      `${first.url}/api/tasks`,
      { name: 'pretends to be a demo', kind: 'shell', payload: { command: 'echo kept', demo: true } },
      TEST_TOKENS.operator,
    )
    expect(submitted.status).toBe(201)
    const id = (submitted.body as Task).id
    await until(() => first.coordinator.getTask(id)?.status === 'succeeded', 10_000, 'the task to succeed')
    await first.stop()

    const second = await startCore(['--no-demo', '--data-dir', first.dataDir])
    try {
      const detail = await getJson(`${second.url}/api/tasks/${id}`, TEST_TOKENS.viewer)
      expect(detail.status).toBe(200)
      expect(detail.body).toMatchObject({ id, status: 'succeeded', payload: { demo: true } })
      expect((detail.body as TaskDetail).logs.map((line) => line.message)).toContain('kept')
    } finally {
      await second.stop()
    }
  })

  it("keeps the demo swarm's own tasks out of it", async () => {
    const first = await startCore(['--demo-agents', '4', '--demo-rate', '50'], { demoSpeed: 0.01 })
    await until(() => first.coordinator.totals.finished >= 5, 10_000, 'demo tasks to finish')
    await first.stop()
    const second = await startCore(['--no-demo', '--data-dir', first.dataDir])
    try {
      expect(second.coordinator.listTasks().total).toBe(0)
    } finally {
      await second.stop()
    }
  })
})
