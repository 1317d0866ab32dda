/**
 * The example agents as real processes against a real server: the Node SDK
 * example killed mid-task (its task finished elsewhere, exactly once), and the
 * Python example (python-socketio) completing a task and exiting on SIGTERM,
 * and waiting with backoff while another live connection holds its id.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import type { TaskSubmitRequest } from '../../src/shared/commands'
import {
  closeAgents,
  findPython,
  killAgentProcesses,
  registeredRawAgent,
  sdkAgent,
  spawnAgent,
} from '../helpers/agents'
import { TEST_TOKENS, postJson, startCore, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

let core: TestCore
beforeAll(async () => {
  core = await startCore(['--no-demo'])
})
afterAll(() => core.stop())
afterEach(async () => {
  killAgentProcesses()
  await closeAgents()
})

const submit = async (task: TaskSubmitRequest): Promise<Task> => {
  const response = await postJson(`${core.url}/api/tasks`, task, TEST_TOKENS.operator)
  expect(response.status).toBe(201)
  return response.body as Task
}
const task = (id: string) => core.coordinator.getTask(id)
/** How the examples are meant to get the token: from the environment, never on the command line. */
const AGENT_ENV = { SWARM_MONITOR_AGENT_TOKEN: TEST_TOKENS.agent }

describe('example agents', () => {
  it('node-agent.ts killed with SIGKILL mid-task: the task is requeued and finished by another agent, once', async () => {
    const example = spawnAgent(
      process.execPath,
      ['--import', 'tsx', 'examples/agents/node-agent.ts', '--url', core.url, '--id', 'example-node'],
      AGENT_ENV,
    )
    await example.waitFor(/registered as example-node/)
    const submitted = await submit({ name: 'nap', kind: 'sleep', payload: { ms: 60_000 }, capabilities: ['sleep'] })
    await until(() => task(submitted.id)?.status === 'running', 5000, 'the example to start the task')
    expect(task(submitted.id)?.agentId).toBe('example-node')

    let runs = 0
    const backup = sdkAgent(core.url, {
      id: 'backup',
      capabilities: ['sleep'],
      handler: async (t) => {
        runs++
        return { sleptMs: 0, by: 'backup', payload: t.payload }
      },
    })
    await backup.connected
    example.child.kill('SIGKILL')
    await example.exited
    await until(() => task(submitted.id)?.status === 'succeeded', 5000, 'the requeued task to finish')
    expect(task(submitted.id)).toMatchObject({ agentId: 'backup', attempts: 2, result: { by: 'backup' } })
    expect(runs).toBe(1)
    expect(core.coordinator.getAgent('example-node')).toMatchObject({ status: 'offline', counters: { done: 0 } })
    // Killed: no goodbye, so a dropped connection (a warning), not a clean disconnect.
    expect(core.coordinator.getAgent('example-node')?.offline?.cause).toBe('dropped')
    expect(core.coordinator.getAgent('backup')?.counters.done).toBe(1)
  })

  it('node-agent.ts stopped with Ctrl-C (SIGINT): a clean disconnect, not a lost agent', async () => {
    const example = spawnAgent(
      process.execPath,
      ['--import', 'tsx', 'examples/agents/node-agent.ts', '--url', core.url, '--id', 'example-node-stop'],
      AGENT_ENV,
    )
    await example.waitFor(/registered as example-node-stop/)
    example.child.kill('SIGINT')
    expect(await example.exited).toEqual({ code: 0, signal: null })
    await until(() => core.coordinator.getAgent('example-node-stop')?.status === 'offline', 2000, 'offline')
    expect(core.coordinator.getAgent('example-node-stop')?.offline?.cause).toBe('disconnected')
  })

  it('python_agent.py (python-socketio) completes a task and exits 0 on SIGTERM', async () => {
    const found = findPython()
    if ('error' in found) throw new Error(found.error)
    const agent = spawnAgent(
      found.python,
      ['examples/agents/python_agent.py', '--url', core.url, '--id', 'example-python'],
      AGENT_ENV,
    )
    await agent.waitFor(/registered as example-python/)
    expect(core.coordinator.getAgent('example-python')).toMatchObject({
      kind: 'remote',
      status: 'idle',
      capabilities: ['python', 'hash', 'sleep'],
    })
    const hashed = await submit({ name: 'py hash', kind: 'hash', payload: { text: 'abc' }, capabilities: ['python'] })
    const slept = await submit({ name: 'py sleep', kind: 'sleep', payload: { ms: 200 }, capabilities: ['python'] })
    const broken = await submit({ name: 'py bad', kind: 'hash', payload: { text: 5 }, capabilities: ['python'] })
    await until(
      () => [hashed, slept, broken].every((t) => ['succeeded', 'failed'].includes(task(t.id)?.status ?? '')),
      10_000,
      'the Python agent to finish three tasks',
    )
    expect(task(hashed.id)).toMatchObject({
      status: 'succeeded',
      agentId: 'example-python',
      result: { algorithm: 'sha256', digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    })
    expect(task(slept.id)).toMatchObject({ status: 'succeeded', result: { sleptMs: 200 } })
    expect(task(broken.id)).toMatchObject({ status: 'failed', error: 'payload.text must be a string' })
    expect(core.coordinator.getAgent('example-python')?.counters).toEqual({ done: 2, failed: 1 })

    agent.child.kill('SIGTERM')
    expect(await agent.exited).toEqual({ code: 0, signal: null })
    await until(() => core.coordinator.getAgent('example-python')?.status === 'offline', 2000, 'the agent offline')
    // It closed its connection itself: a clean disconnect, not a lost heartbeat.
    expect(core.coordinator.getAgent('example-python')?.offline?.cause).toBe('disconnected')
    expect(agent.output()).not.toMatch(/warning: --token/)
  })

  it('python_agent.py given the token with --token: works, but warns that ps shows it', async () => {
    const found = findPython()
    if ('error' in found) throw new Error(found.error)
    const agent = spawnAgent(found.python, [
      'examples/agents/python_agent.py',
      '--url',
      core.url,
      '--token',
      TEST_TOKENS.agent,
      '--id',
      'example-python-argv',
    ])
    await agent.waitFor(/registered as example-python-argv/)
    expect(agent.output()).toMatch(
      /warning: --token puts the agent token on the command line, .*\(ps, \/proc\/PID\/cmdline\); set SWARM_MONITOR_AGENT_TOKEN instead/,
    )
    agent.child.kill('SIGINT')
    expect(await agent.exited).toEqual({ code: 0, signal: null })
  })

  it('python_agent.py without a token says where it goes', async () => {
    const found = findPython()
    if ('error' in found) throw new Error(found.error)
    const agent = spawnAgent(found.python, ['examples/agents/python_agent.py', '--url', core.url], {
      SWARM_MONITOR_AGENT_TOKEN: '',
    })
    expect((await agent.exited).code).toBe(2)
    expect(agent.output()).toMatch(/the agent token is required: set SWARM_MONITOR_AGENT_TOKEN/)
  })

  it('python_agent.py retries while another live connection holds its id, and joins when it frees', async () => {
    const found = findPython()
    if ('error' in found) throw new Error(found.error)
    const holder = await registeredRawAgent(core.url, 'example-python-busy')
    const agent = spawnAgent(
      found.python,
      ['examples/agents/python_agent.py', '--url', core.url, '--id', 'example-python-busy'],
      AGENT_ENV,
    )
    await agent.waitFor(/registration refused: conflict: .*\n.*trying again with backoff\n.*reconnecting in/)
    expect(agent.child.exitCode).toBeNull()
    holder.disconnect()
    await agent.waitFor(/registered as example-python-busy/, 10_000)
    expect(core.coordinator.getAgent('example-python-busy')?.capabilities).toEqual(['python', 'hash', 'sleep'])
    agent.child.kill('SIGTERM')
    expect(await agent.exited).toEqual({ code: 0, signal: null })
  })
})
