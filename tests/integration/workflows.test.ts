/**
 * Workflows through a real server: a graph submitted in one request, all or
 * nothing; listed with progress; cancelled and retried whole; over HTTP and
 * as Socket.IO commands, operators only, audited; back after a restart.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditPage } from '../../src/shared/audit'
import type { Task, TaskDetail } from '../../src/shared/domain'
import type { WorkflowDetail, WorkflowSubmitted, WorkflowSummary } from '../../src/shared/workflows'
import { closeAgents, manualAgent } from '../helpers/agents'
import { TEST_TOKENS, connectDashboard, getJson, postJson, startCore, until } from '../helpers/core'

const cores: { stop(): Promise<void> }[] = []
afterEach(async () => {
  await closeAgents()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

async function start(dataDir?: string) {
  const core = await startCore(['--no-demo', ...(dataDir ? ['--data-dir', dataDir] : [])])
  cores.push(core)
  return core
}

const worker = (url: string) => manualAgent(url)

/** build, then test and lint, then deploy. */
const RELEASE = {
  name: 'release 1.2',
  tasks: [
    { key: 'deploy', name: 'deploy', kind: 'k', dependsOn: ['test', 'lint'] },
    { key: 'build', name: 'build #12', kind: 'k', dependsOn: [] },
    { key: 'test', name: 'test', kind: 'k', dependsOn: ['build'], maxRetries: 0 },
    { key: 'lint', name: 'lint', kind: 'k', dependsOn: ['build'], priority: 5 },
  ],
}

const post = (url: string, path: string, body: unknown, token = TEST_TOKENS.operator) =>
  postJson(`${url}${path}`, body, token)
const workflow = async (url: string, id: string) =>
  (await getJson(`${url}/api/workflows/${id}`, TEST_TOKENS.viewer)).body as WorkflowDetail
const storedTasks = async (url: string) =>
  ((await getJson(`${url}/api/tasks?limit=1000`, TEST_TOKENS.viewer)).body as { tasks: Task[] }).tasks
async function untilWorkflow(url: string, id: string, done: (detail: WorkflowDetail) => boolean) {
  const started = Date.now()
  for (;;) {
    const detail = await workflow(url, id)
    if (done(detail) || Date.now() - started > 5000) return detail
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
const idOf = (submitted: WorkflowSubmitted, key: string) => submitted.tasks.find((task) => task.key === key)!.id

describe('workflows', () => {
  it('submits a graph, runs it in dependency order and reports its progress', async () => {
    const core = await start()
    const agent = await worker(core.url)
    const response = await post(core.url, '/api/workflows', RELEASE)
    expect(response.status).toBe(201)
    const submitted = response.body as WorkflowSubmitted
    expect(submitted.tasks.map((task) => task.key)).toEqual(['deploy', 'build', 'test', 'lint'])
    const deployDetail = (await getJson(`${core.url}/api/tasks/${idOf(submitted, 'deploy')}`, TEST_TOKENS.viewer))
      .body as TaskDetail
    expect(deployDetail.workflow).toEqual({ id: submitted.id, name: 'release 1.2', key: 'deploy' })
    expect(deployDetail.dependsOn).toEqual([idOf(submitted, 'test'), idOf(submitted, 'lint')])

    await until(() => agent.assigned.length === 1, 5000, 'build')
    expect(agent.assigned).toEqual([idOf(submitted, 'build')])
    await agent.succeed(idOf(submitted, 'build'))
    await until(() => agent.assigned.length === 3, 5000, 'test and lint')
    await agent.succeed(idOf(submitted, 'test'))
    await agent.succeed(idOf(submitted, 'lint'))
    await until(() => agent.assigned.length === 4, 5000, 'deploy')

    let detail = await workflow(core.url, submitted.id)
    expect(detail).toMatchObject({ name: 'release 1.2', state: 'active', progress: { total: 4, done: 0.75 } })
    expect(detail.tasks.map((task) => [task.key, task.status])).toEqual([
      ['build', 'succeeded'],
      ['test', 'succeeded'],
      ['lint', 'succeeded'],
      ['deploy', 'assigned'],
    ])
    expect(detail.tasks.find((task) => task.key === 'deploy')!.dependsOn).toEqual(['test', 'lint'])
    await agent.succeed(idOf(submitted, 'deploy'))
    detail = await untilWorkflow(core.url, submitted.id, (w) => w.state !== 'active')
    expect(detail).toMatchObject({ state: 'succeeded', progress: { done: 1, byStatus: { succeeded: 4 } } })

    const list = (await getJson(`${core.url}/api/workflows`, TEST_TOKENS.viewer)).body as {
      workflows: WorkflowSummary[]
      total: number
    }
    expect(list.total).toBe(1)
    expect(list.workflows[0]).toMatchObject({ id: submitted.id, state: 'succeeded' })
  })

  it('refuses a cycle, an unknown key or a duplicate key naming it, and stores nothing', async () => {
    const core = await start()
    const cases: [unknown, string][] = [
      [
        { name: 'w', tasks: [...RELEASE.tasks.slice(0, 3), { ...RELEASE.tasks[3]!, dependsOn: ['deploy'] }] },
        'cycle: ',
      ],
      [
        { name: 'w', tasks: [{ key: 'a', name: 'a', kind: 'k', dependsOn: ['zz'] }] },
        'tasks.0.dependsOn.0: unknown key "zz"',
      ],
      [
        { name: 'w', tasks: [...RELEASE.tasks, { key: 'build', name: 'again', kind: 'k' }] },
        'tasks.4.key: duplicate key "build"',
      ],
      [
        {
          name: 'w',
          tasks: [
            { key: 'a', name: 'a', kind: 'k' },
            { key: 'b', kind: 'k' },
          ],
        },
        'tasks.1.name',
      ],
    ]
    for (const [body, message] of cases) {
      const response = await post(core.url, '/api/workflows', body)
      expect(response.status).toBe(400)
      expect((response.body as { error: { message: string } }).error.message).toContain(message)
    }
    expect(await storedTasks(core.url)).toEqual([])
    const badLimit = await getJson(`${core.url}/api/workflows?limit=1001`, TEST_TOKENS.viewer)
    expect(badLimit.status).toBe(400)
    expect(JSON.stringify(badLimit.body)).toContain('limit')
    expect(((await getJson(`${core.url}/api/workflows`, TEST_TOKENS.viewer)).body as { total: number }).total).toBe(0)
  })

  it('takes 1,000 tasks in one body larger than the message limit, and refuses 1,001', async () => {
    const core = await start()
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      key: `step-${i}`,
      name: `step ${i} of a long chain of work`,
      kind: 'k',
      dependsOn: i === 0 ? [] : [`step-${i - 1}`],
    }))
    const ok = await post(core.url, '/api/workflows', { name: 'long', tasks })
    expect(JSON.stringify({ name: 'long', tasks }).length).toBeGreaterThan(64 * 1024)
    expect(ok.status).toBe(201)
    const tooMany = await post(core.url, '/api/workflows', {
      name: 'longer',
      tasks: [...tasks, { key: 'x', name: 'x', kind: 'k' }],
    })
    expect(tooMany.status).toBe(400)
    expect(JSON.stringify(tooMany.body)).toContain('tasks')
    expect((await storedTasks(core.url)).length).toBe(1000)
  })

  it('cancels a workflow, then retries what did not succeed; viewers may read but not act', async () => {
    const core = await start()
    const agent = await worker(core.url)
    const submitted = (await post(core.url, '/api/workflows', RELEASE)).body as WorkflowSubmitted
    await until(() => agent.assigned.length === 1, 5000, 'build')
    await agent.succeed(idOf(submitted, 'build'))
    await until(() => agent.assigned.length === 3, 5000, 'test and lint')
    await agent.fail(idOf(submitted, 'test'))
    let detail = await untilWorkflow(core.url, submitted.id, (w) => w.tasks.some((task) => task.status === 'cancelled'))
    expect(detail.tasks.find((task) => task.key === 'deploy')).toMatchObject({
      status: 'cancelled',
      error: 'dependency test failed',
    })

    const refused = await post(core.url, `/api/workflows/${submitted.id}/cancel`, {}, TEST_TOKENS.viewer)
    expect(refused.status).toBe(403)
    const cancelled = await post(core.url, `/api/workflows/${submitted.id}/cancel`, {})
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toMatchObject({ changed: 1, workflow: { state: 'failed' } })
    expect((await workflow(core.url, submitted.id)).tasks.find((task) => task.key === 'lint')).toMatchObject({
      status: 'cancelled',
      error: 'workflow cancelled by operator',
    })

    const retried = await post(core.url, `/api/workflows/${submitted.id}/retry-failed`, {})
    expect(retried.status).toBe(200)
    // test and lint retried, and deploy with test, whose failure had cancelled it.
    expect(retried.body).toMatchObject({ changed: 3, workflow: { state: 'active' } })
    await until(() => agent.assigned.length === 5, 5000, 'test and lint again')
    detail = await workflow(core.url, submitted.id)
    expect(detail.tasks.find((task) => task.key === 'deploy')).toMatchObject({ status: 'queued' })

    expect((await post(core.url, '/api/workflows/w-nope/cancel', {})).status).toBe(404)
    const audit = (await getJson(`${core.url}/api/audit?target=${submitted.id}`, TEST_TOKENS.operator))
      .body as AuditPage
    expect(audit.entries.map((entry) => [entry.action, entry.outcome])).toEqual([
      ['workflow:retry-failed', 'ok'],
      ['workflow:cancel', 'ok'],
      ['workflow:submit', 'ok'],
    ])
  })

  it('works as Socket.IO commands, and the workflow is back after a restart', async () => {
    const first = await start()
    const { socket } = await connectDashboard(first.url, TEST_TOKENS.operator)
    const answer = await socket.emitWithAck('workflow:submit', RELEASE)
    expect(answer.ok).toBe(true)
    const submitted = (answer as { ok: true; data: WorkflowSubmitted }).data
    const bad = await socket.emitWithAck('workflow:submit', { name: 'w', tasks: [] })
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    socket.disconnect()
    await first.stop()
    cores.length = 0

    const second = await start(first.dataDir)
    const detail = await workflow(second.url, submitted.id)
    expect(detail).toMatchObject({ name: 'release 1.2', state: 'active', progress: { total: 4 } })
    expect(detail.tasks.map((task) => task.key)).toEqual(['build', 'test', 'lint', 'deploy'])
    const agent = await worker(second.url)
    await until(() => agent.assigned.length === 1, 5000, 'build only')
    expect(agent.assigned).toEqual([idOf(submitted, 'build')])
  })
})
