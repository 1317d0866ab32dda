import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Task, TaskDetail } from '../../src/shared/domain'
import { TEST_TOKENS, TOKEN_ENV, getJson, postJson } from '../helpers/core'
import { builtEntry, run, type RunningProcess } from '../helpers/process'

const running: RunningProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()))
})

async function startServer(dataDir: string): Promise<{ server: RunningProcess; url: string }> {
  const server = run(
    builtEntry('cli'),
    ['--port', '0', '--data-dir', dataDir, '--demo-agents', '8', '--demo-rate', '0'],
    TOKEN_ENV,
  )
  running.push(server)
  const [, url] = await server.waitFor(/listening on (http:\S+)/)
  return { server, url: url! }
}

describe('durable task history', () => {
  it('loses no accepted task when the server is killed with SIGKILL mid-run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-kill-'))
    const { server, url } = await startServer(dataDir)

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

    const restarted = await startServer(dataDir)
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
})
