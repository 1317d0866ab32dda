import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Task, TaskDetail } from '../../src/shared/domain'
import { TEST_TOKENS, TOKEN_ENV, getJson, postJson } from '../helpers/core'
import { startPostgres, type Postgres } from '../helpers/postgres'
import { builtEntry, run, type RunningProcess } from '../helpers/process'

/** Each history backend: what to start it with, and the `--database` of a fresh database on it. */
interface Backend {
  name: string
  setup(): Promise<void>
  teardown(): void
  database(): Promise<string[]>
}
let pg: Postgres | null = null
const BACKENDS: Backend[] = [
  { name: 'SQLite', setup: async () => {}, teardown: () => {}, database: async () => [] },
  {
    name: 'PostgreSQL',
    setup: async () => {
      pg = await startPostgres()
    },
    teardown: () => pg?.destroy(),
    database: async () => ['--database', (await pg!.createDatabase()).url],
  },
]

const running: RunningProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()))
})

async function startServer(dataDir: string, database: string[]): Promise<{ server: RunningProcess; url: string }> {
  const server = run(
    builtEntry('cli'),
    ['--port', '0', '--data-dir', dataDir, '--demo-agents', '8', '--demo-rate', '0', ...database],
    TOKEN_ENV,
  )
  running.push(server)
  const [, url] = await server.waitFor(/listening on (http:\S+)/)
  return { server, url: url! }
}

describe.each(BACKENDS)('durable task history on $name', (backend) => {
  beforeAll(() => backend.setup(), 30_000)
  afterAll(() => backend.teardown())

  it('loses no accepted task when the server is killed with SIGKILL mid-run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-kill-'))
    const database = await backend.database()
    const { server, url } = await startServer(dataDir, database)

    // Work the demo agents can do (capability cpu), and work nobody can (stays queued).
    const accepted: Task[] = []
    for (let i = 0; i < 20; i++) {
      const response = await postJson(
        `${url}/api/tasks`,
        { name: `work ${i}`, kind: 'compute', capabilities: ['cpu'] },
        TEST_TOKENS.operator,
      )
      expect(response.status).toBe(201)
      accepted.push(response.body as Task)
    }
    const tasks = async () =>
      ((await getJson(`${url}/api/tasks?limit=1000`, TEST_TOKENS.viewer)).body as { tasks: Task[] }).tasks
    let before: Task[] = []
    // Demo agents take 1-8 s a task: wait for a few to finish.
    const waitStarted = Date.now()
    while (before.filter((t) => t.status === 'succeeded').length < 3 && Date.now() - waitStarted < 15_000) {
      before = await tasks()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    for (let i = 0; i < 30; i++) {
      const response = await postJson(
        `${url}/api/tasks`,
        { name: `held ${i}`, kind: 'compute', capabilities: ['nowhere'] },
        TEST_TOKENS.operator,
      )
      expect(response.status).toBe(201)
      accepted.push(response.body as Task)
    }
    before = await tasks()
    const succeededBefore = before.filter((t) => t.status === 'succeeded')
    expect(succeededBefore.length).toBeGreaterThanOrEqual(3)

    server.child.kill('SIGKILL')
    expect(await server.exited).toBeNull()

    const restarted = await startServer(dataDir, database)
    const listed = await getJson(`${restarted.url}/api/tasks?limit=1000`, TEST_TOKENS.viewer)
    const after = (listed.body as { tasks: Task[] }).tasks
    const byId = new Map(after.map((t) => [t.id, t]))
    for (const task of accepted) expect(byId.has(task.id), `task ${task.name} survives`).toBe(true)
    for (const task of succeededBefore) {
      expect(byId.get(task.id)).toMatchObject({ status: 'succeeded', result: task.result })
    }
    for (const task of after.filter((t) => t.name.startsWith('held'))) expect(task.status).toBe('queued')
    const unfinishedWork = after.filter((t) => t.name.startsWith('work') && !succeededBefore.some((s) => s.id === t.id))
    for (const task of unfinishedWork)
      expect(['queued', 'assigned', 'running', 'succeeded', 'failed']).toContain(task.status)

    const detail = (await getJson(`${restarted.url}/api/tasks/${succeededBefore[0]!.id}`, TEST_TOKENS.viewer))
      .body as TaskDetail
    expect(detail.transitions.map((t) => t.status)).toEqual(['queued', 'assigned', 'running', 'succeeded'])
  })

  it('has every task on disk before its submitter hears 201: SIGKILL the moment answers arrive', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-kill-'))
    const database = await backend.database()
    const { server, url } = await startServer(dataDir, database)
    // Many submissions in flight; the kill comes synchronously on an answer, so later commits are cut short.
    const heard: Task[] = []
    let killed = false
    const submitOne = async (i: number) => {
      const response = await fetch(`${url}/api/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS.operator}` },
        body: JSON.stringify({ name: `burst ${i}`, kind: 'compute', capabilities: ['nowhere'] }),
      }).catch(() => null)
      if (killed || response?.status !== 201) return
      heard.push((await response.json()) as Task)
      if (heard.length === 150) {
        killed = true
        server.child.kill('SIGKILL')
      }
    }
    const lanes = Array.from({ length: 16 }, async (_, lane) => {
      for (let i = lane; i < 400 && !killed; i += 16) await submitOne(i)
    })
    await Promise.all(lanes)
    expect(killed).toBe(true)
    expect(await server.exited).toBeNull()

    const restarted = await startServer(dataDir, database)
    const listed = await getJson(`${restarted.url}/api/tasks?limit=1000`, TEST_TOKENS.viewer)
    const ids = new Set((listed.body as { tasks: Task[] }).tasks.map((t) => t.id))
    const lost = heard.filter((task) => !ids.has(task.id)).map((task) => task.name)
    expect(lost, 'tasks answered 201 and missing after the kill').toEqual([])
  })
})
