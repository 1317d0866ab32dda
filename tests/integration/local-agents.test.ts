import { taskStatusOf } from '../../src/shared/changes'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Agent, Task, TaskDetail } from '../../src/shared/domain'
import type { DomainEvent } from '../../src/shared/events'
import {
  TEST_TOKENS,
  connectDashboard,
  getJson,
  postJson,
  startCore,
  until,
  type DashboardSocket,
} from '../helpers/core'
import { isRunning } from '../helpers/processes'

type TestCore = Awaited<ReturnType<typeof startCore>>

const sockets: DashboardSocket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect()
})

describe('local agents in a real server, beside the demo swarm', () => {
  let core: TestCore
  beforeAll(async () => {
    core = await startCore(['--demo-agents', '4', '--demo-rate', '40', '--local-agents', '2'], { demoSpeed: 0.05 })
  })
  afterAll(() => core.stop())

  const submit = async (command: string, fields: Record<string, unknown> = {}) => {
    const response = await postJson(
      `${core.url}/api/tasks`,
      { name: command, kind: 'shell', payload: { command }, ...fields },
      TEST_TOKENS.operator,
    )
    expect(response.status).toBe(201)
    return response.body as Task
  }
  const detail = async (id: string) =>
    (await getJson(`${core.url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body as TaskDetail
  async function settled(id: string): Promise<TaskDetail> {
    const deadline = Date.now() + 5000
    for (;;) {
      const task = await detail(id)
      if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(task.status)) return task
      if (Date.now() > deadline) throw new Error(`task ${id} still ${task.status}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  it('runs `echo hi; exit 3` on a local agent: failed, exit code 3, the line kept (API and /dashboard stream)', async () => {
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    sockets.push(socket)
    const seen: DomainEvent[] = []
    socket.on('events', (events) => seen.push(...events))

    const task = await submit('echo hi; exit 3')
    expect(task).toMatchObject({ status: 'queued', capabilities: ['shell'] })
    const done = await settled(task.id)
    expect(done).toMatchObject({ status: 'failed', error: 'exit code 3' })
    expect(done.agentId).toMatch(/^local-\d$/)
    expect(done.logs).toEqual([expect.objectContaining({ level: 'info', message: 'hi' })])
    expect(done.transitions.map((step) => step.status)).toEqual(['queued', 'assigned', 'running', 'failed'])

    // Its log lines (its status changes carry its id too, and may come before this looks).
    const mine = () => seen.filter((event) => event.type === 'task:log' && event.taskId === task.id)
    await until(() => mine().length > 0, 3000, 'the log line on the dashboard stream')
    expect(mine()).toEqual([expect.objectContaining({ type: 'task:log', level: 'info', message: 'hi' })])
    await until(
      () => seen.some((event) => taskStatusOf(event)?.taskId === task.id && taskStatusOf(event)?.status === 'failed'),
      3000,
      'the failure on the dashboard stream',
    )
  })

  it('succeeds with `echo ok`', async () => {
    const task = await submit('echo ok')
    const done = await settled(task.id)
    expect(done).toMatchObject({ status: 'succeeded', result: { exitCode: 0 } })
    expect(done.logs.map((line) => line.message)).toEqual(['ok'])
  })

  it('cancels a running command over HTTP and leaves no process behind', async () => {
    const task = await submit('echo $$; sleep 30 & echo $!; wait')
    let pids: number[] = []
    const poll = setInterval(() => {
      void detail(task.id).then((current) => (pids = current.logs.map((line) => Number(line.message))))
    }, 20)
    await until(() => pids.length === 2, 5000, 'two pids').finally(() => clearInterval(poll))
    const response = await postJson(`${core.url}/api/tasks/${task.id}/cancel`, {}, TEST_TOKENS.operator)
    expect(response).toMatchObject({ status: 200, body: { status: 'cancelled' } })
    await until(() => pids.every((pid) => !isRunning(pid)), 1000, 'the process group to end')
  })

  it('keeps shell tasks off demo agents and demo tasks off local agents', async () => {
    const shells = await Promise.all([1, 2, 3, 4].map((n) => submit(`echo ${n}`)))
    await Promise.all(shells.map((task) => settled(task.id)))
    await until(() => core.coordinator.totals.finished > 40, 10_000, 'demo tasks to finish')
    const { tasks } = (await getJson(`${core.url}/api/tasks?limit=1000`, TEST_TOKENS.viewer)).body as { tasks: Task[] }
    const ran = tasks.filter((task) => task.agentId !== null)
    expect(ran.filter((task) => task.kind === 'shell').every((task) => task.agentId!.startsWith('local-'))).toBe(true)
    expect(ran.filter((task) => task.kind !== 'shell').every((task) => task.agentId!.startsWith('demo-'))).toBe(true)
    expect(ran.some((task) => task.kind !== 'shell')).toBe(true)
    const { agents } = (await getJson(`${core.url}/api/agents`, TEST_TOKENS.viewer)).body as { agents: Agent[] }
    expect(agents.filter((agent) => agent.kind === 'local').map((agent) => [agent.id, agent.capabilities])).toEqual([
      ['local-1', ['shell']],
      ['local-2', ['shell']],
    ])
  })
})
