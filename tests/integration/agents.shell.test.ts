/**
 * `shell` tasks run a command with the environment the task carries: they
 * stay on the server's own local agents unless the operator lets remote
 * agents take them (`--allow-remote-shell-agents`). Real servers, a real
 * remote agent that registers the capability `shell`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import type { TaskSubmitRequest } from '../../src/shared/commands'
import { whyNoAgentRuns } from '../../src/shared/routing'
import { closeAgents, registeredRawAgent } from '../helpers/agents'
import { TEST_TOKENS, connectDashboard, postJson, startCore, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

let core: TestCore | null = null
afterEach(async () => {
  await closeAgents()
  await core?.stop()
  core = null
})

const submit = async (url: string, task: TaskSubmitRequest): Promise<Task> => {
  const response = await postJson(`${url}/api/tasks`, task, TEST_TOKENS.operator)
  expect(response.status).toBe(201)
  return response.body as Task
}
const shellTask = { name: 'env', kind: 'shell', payload: { command: 'env', env: { SECRET: 'x' } } }

describe('shell tasks and remote agents', () => {
  it('gives a remote agent with the capability shell no shell task by default, and tells viewers why it waits', async () => {
    core = await startCore(['--no-demo'])
    const agent = await registeredRawAgent(core.url, 'remote-shell', ['shell'])
    const assigned: Task[] = []
    agent.on('task:assign', ({ task }) => assigned.push(task))
    const { socket: viewer, welcome } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    expect(welcome.routing).toEqual({ remoteShellAgents: false })

    const shell = await submit(core.url, shellTask)
    // The capability still routes other kinds to it: only the kind stays local.
    const other = await submit(core.url, { name: 'other', kind: 'probe', capabilities: ['shell'] })
    await until(() => assigned.length > 0, 2000, 'the other task to be assigned')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(assigned.map((t) => t.id)).toEqual([other.id])
    expect(core.coordinator.getTask(shell.id)).toMatchObject({ status: 'queued', agentId: null, attempts: 0 })
    // What the dashboard's task drawer says, by the same rule and the policy from welcome.
    expect(whyNoAgentRuns(core.coordinator.listAgents(), core.coordinator.getTask(shell.id)!, welcome.routing)).toBe(
      'No agent may run shell tasks: remote agents are not allowed to (the server runs without --allow-remote-shell-agents).',
    )
    viewer.disconnect()
  })

  it('gives it shell tasks with --allow-remote-shell-agents', async () => {
    core = await startCore(['--no-demo', '--allow-remote-shell-agents'])
    const agent = await registeredRawAgent(core.url, 'remote-shell', ['shell'])
    const assigned = new Promise<Task>((resolve) => agent.once('task:assign', ({ task }) => resolve(task)))
    const { socket: viewer, welcome } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    expect(welcome.routing).toEqual({ remoteShellAgents: true })
    const shell = await submit(core.url, shellTask)
    expect(await assigned).toMatchObject({ id: shell.id, kind: 'shell', payload: shellTask.payload })
    expect(core.coordinator.getTask(shell.id)).toMatchObject({ status: 'assigned', agentId: 'remote-shell' })
    viewer.disconnect()
  })

  it('still gives shell tasks to local agents, which never take other kinds', async () => {
    core = await startCore(['--no-demo', '--local-agents', '1'])
    await registeredRawAgent(core.url, 'remote-shell', ['shell'])
    const shell = await submit(core.url, { name: 'echo', kind: 'shell', payload: { command: 'echo hi' } })
    await until(() => core!.coordinator.getTask(shell.id)?.status === 'succeeded', 5000, 'the local agent to run it')
    expect(core.coordinator.getTask(shell.id)?.agentId).toBe('local-1')
  })
})
