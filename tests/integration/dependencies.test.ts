/**
 * Task dependencies through a real server: a task waits for what it depends
 * on, is released when that succeeded, is cancelled naming it when it failed
 * for good, waits again when it is retried, and keeps waiting across a
 * restart (SQLite). Work is done by a raw agent the test drives.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Task, TaskDetail } from '../../src/shared/domain'
import type { AuditPage } from '../../src/shared/audit'
import { closeAgents, manualAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'

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

const submit = (url: string, body: object) => postJson(`${url}/api/tasks`, body, TEST_TOKENS.operator)
const detail = async (url: string, id: string) =>
  (await getJson(`${url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body as TaskDetail
async function statusOf(url: string, id: string): Promise<Task['status']> {
  return (await detail(url, id)).status
}
async function untilStatus(url: string, id: string, status: Task['status']): Promise<void> {
  let last: Task['status'] | null = null
  const started = Date.now()
  while (Date.now() - started < 5000) {
    last = await statusOf(url, id)
    if (last === status) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`task ${id} stayed ${last}, not ${status}`)
}

describe('task dependencies', () => {
  it('dispatches a task only once every dependency succeeded, and says what it waits for', async () => {
    const core = await start()
    const agent = await worker(core.url)
    const build = (await submit(core.url, { name: 'build #12', kind: 'k' })).body as Task
    const lint = (await submit(core.url, { name: 'lint', kind: 'k' })).body as Task
    const response = await submit(core.url, { name: 'deploy', kind: 'k', dependsOn: [build.id, lint.id] })
    expect(response.status).toBe(201)
    const deploy = response.body as Task
    expect(deploy.dependsOn).toEqual([build.id, lint.id])

    await until(() => agent.assigned.length === 2, 5000, 'the two free tasks')
    expect(agent.assigned).not.toContain(deploy.id)
    expect((await detail(core.url, deploy.id)).waitingFor).toEqual([
      { id: build.id, name: 'build #12', status: 'assigned' },
      { id: lint.id, name: 'lint', status: 'assigned' },
    ])

    await agent.succeed(build.id)
    await untilStatus(core.url, build.id, 'succeeded')
    expect((await detail(core.url, deploy.id)).waitingFor).toEqual([{ id: lint.id, name: 'lint', status: 'assigned' }])
    expect(agent.assigned).not.toContain(deploy.id)

    await agent.succeed(lint.id)
    await until(() => agent.assigned.includes(deploy.id), 5000, 'deploy to be dispatched')
    expect((await detail(core.url, deploy.id)).waitingFor).toBeUndefined()
  })

  it('cancels dependents naming the failed dependency, down the chain, and a retry releases them again', async () => {
    const core = await start()
    const agent = await worker(core.url)
    const build = (await submit(core.url, { name: 'build #12', kind: 'k' })).body as Task
    const test = (await submit(core.url, { name: 'test', kind: 'k', dependsOn: [build.id] })).body as Task
    const deploy = (await submit(core.url, { name: 'deploy', kind: 'k', dependsOn: [test.id] })).body as Task
    await until(() => agent.assigned.includes(build.id))

    await agent.fail(build.id)
    await untilStatus(core.url, deploy.id, 'cancelled')
    expect((await detail(core.url, test.id)).error).toBe('dependency build #12 failed')
    expect((await detail(core.url, deploy.id)).error).toBe('dependency test was cancelled')

    // Retrying a dependent while its dependency stays failed is refused, and changes nothing.
    const early = await postJson(`${core.url}/api/tasks/${test.id}/retry`, {}, TEST_TOKENS.operator)
    expect(early.status).toBe(409)
    expect(JSON.stringify(early.body)).toContain(build.id)
    expect(await statusOf(core.url, test.id)).toBe('cancelled')

    const retried = await postJson(`${core.url}/api/tasks/${build.id}/retry`, {}, TEST_TOKENS.operator)
    expect(retried.status).toBe(200)
    await untilStatus(core.url, deploy.id, 'queued')
    expect(await statusOf(core.url, test.id)).toBe('queued')
    expect((await detail(core.url, deploy.id)).waitingFor?.map((d) => d.id)).toEqual([test.id])
    await until(() => agent.assigned.filter((id) => id === build.id).length === 2, 5000, 'the retry')
    expect(agent.assigned).not.toContain(test.id)

    await agent.succeed(build.id)
    await until(() => agent.assigned.includes(test.id), 5000, 'test to be released')
    await agent.succeed(test.id)
    await until(() => agent.assigned.includes(deploy.id), 5000, 'deploy to be released')
  })

  it('refuses bad dependsOn naming the field, and stores nothing', async () => {
    const core = await start()
    const known = (await submit(core.url, { name: 'a', kind: 'k' })).body as Task
    const cases: [unknown, number, string][] = [
      [['t-nope'], 400, 'dependsOn.0: no task t-nope'],
      [[known.id, known.id], 400, 'dependsOn: lists a task twice'],
      [Array.from({ length: 101 }, (_, i) => `t-${i}`), 400, 'dependsOn'],
      ['x', 400, 'dependsOn'],
    ]
    for (const [dependsOn, status, message] of cases) {
      const response = await submit(core.url, { name: 'b', kind: 'k', dependsOn })
      expect(response.status).toBe(status)
      expect((response.body as { error: { message: string } }).error.message).toContain(message)
    }
    await postJson(`${core.url}/api/tasks/${known.id}/cancel`, {}, TEST_TOKENS.operator)
    const onCancelled = await submit(core.url, { name: 'b', kind: 'k', dependsOn: [known.id] })
    expect(onCancelled.status).toBe(409)
    const listed = (await getJson(`${core.url}/api/tasks?limit=100`, TEST_TOKENS.viewer)).body as { tasks: Task[] }
    expect(listed.tasks.map((task) => task.name)).toEqual(['a'])
  })

  it('keeps a waiting task waiting across a restart, and releases it when its dependency succeeds', async () => {
    const first = await start()
    const build = (await submit(first.url, { name: 'build', kind: 'k' })).body as Task
    const deploy = (await submit(first.url, { name: 'deploy', kind: 'k', dependsOn: [build.id] })).body as Task
    const failing = (await submit(first.url, { name: 'flaky', kind: 'k' })).body as Task
    const after = (await submit(first.url, { name: 'after flaky', kind: 'k', dependsOn: [failing.id] })).body as Task
    await first.stop()
    cores.length = 0

    const second = await start(first.dataDir)
    expect((await detail(second.url, deploy.id)).dependsOn).toEqual([build.id])
    expect((await detail(second.url, deploy.id)).waitingFor?.map((d) => d.id)).toEqual([build.id])
    const agent = await worker(second.url)
    await until(() => agent.assigned.length === 2, 5000, 'the two free tasks')
    expect(agent.assigned.sort()).toEqual([build.id, failing.id].sort())

    await agent.fail(failing.id)
    await untilStatus(second.url, after.id, 'cancelled')
    await agent.succeed(build.id)
    await until(() => agent.assigned.includes(deploy.id), 5000, 'deploy after the restart')

    // The cancel by dependency is durable too: after another restart, retrying flaky still releases its dependent.
    await second.stop()
    cores.length = 0
    const third = await start(first.dataDir)
    expect((await detail(third.url, after.id)).cancelledByDependency).toBe(failing.id)
    await postJson(`${third.url}/api/tasks/${failing.id}/retry`, {}, TEST_TOKENS.operator)
    await untilStatus(third.url, after.id, 'queued')
    expect((await detail(third.url, after.id)).waitingFor?.map((d) => d.id)).toEqual([failing.id])
  })

  it('audits the commands like any other', async () => {
    const core = await start()
    await submit(core.url, { name: 'b', kind: 'k', dependsOn: ['t-nope'] })
    const audit = (await getJson(`${core.url}/api/audit?action=task:submit`, TEST_TOKENS.operator)).body as AuditPage
    expect(audit.entries[0]).toMatchObject({ action: 'task:submit', outcome: 'refused', code: 'bad_request' })
  })
})
