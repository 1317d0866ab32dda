/**
 * Work survives a server restart: an SDK agent keeps running its tasks while
 * the server is away, registers again naming them (`running`), and gets them
 * back as the same attempt — including one it finished while the server was
 * down, whose end it sends after registering. Each counts once. A real server
 * (stopped and started again on the same data dir and port), a real SDK agent.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import { closeAgents, findPython, killAgentProcesses, sdkAgent, spawnAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'
import { freePort } from '../helpers/ports'

type Node = Awaited<ReturnType<typeof startCore>>
let node: Node | null = null
afterEach(async () => {
  killAgentProcesses()
  await closeAgents()
  await node?.stop()
  node = null
})

const taskOf = async (url: string, id: string) =>
  (await getJson(`${url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body as Task

describe('a server restart under running work', () => {
  it('gives the agent back what it still runs and what it finished meanwhile: each the same attempt, counted once', async () => {
    const port = await freePort()
    node = await startCore(['--no-demo', '--port', String(port)])
    const { dataDir } = node
    const url = node.url
    const release = new Map<string, () => void>()
    const calls: string[] = []
    sdkAgent(url, {
      id: 'keeper',
      concurrency: 4,
      handler: (task) => {
        calls.push(task.id)
        return new Promise((resolve) => release.set(task.id, () => resolve({ done: task.name })))
      },
    })
    const submit = async (name: string) =>
      (await postJson(`${url}/api/tasks`, { name, kind: 'work' }, TEST_TOKENS.operator)).body as Task
    const long = await submit('runs across the restart')
    const quick = await submit('ends while the server is away')
    await until(() => release.has(long.id) && release.has(quick.id), 5_000, 'both tasks on the agent')
    await until(() => node!.coordinator.getTask(quick.id)?.status === 'running', 5_000)

    await node.stop()
    node = null
    // Finished with no server to tell: the SDK keeps the end for its next registration.
    release.get(quick.id)!()
    await new Promise((resolve) => setTimeout(resolve, 100))
    node = await startCore(['--no-demo', '--port', String(port), '--data-dir', dataDir])

    await until(
      () => node!.coordinator.getTask(quick.id)?.status === 'succeeded',
      5_000,
      'the end sent after the restart',
    )
    await until(() => node!.coordinator.getTask(long.id)?.status === 'running', 5_000, 'the long one given back')
    expect(node.coordinator.getTask(long.id)).toMatchObject({ agentId: 'keeper', attempts: 1, requeues: 0 })
    release.get(long.id)!()
    await until(() => node!.coordinator.getTask(long.id)?.status === 'succeeded', 5_000)

    for (const task of [await taskOf(url, long.id), await taskOf(url, quick.id)]) {
      expect(task).toMatchObject({ status: 'succeeded', attempts: 1, agentId: 'keeper' })
    }
    // Each ran once on the agent; the agent counts both, once.
    expect(calls.sort()).toEqual([long.id, quick.id].sort())
    expect(node.coordinator.getAgent('keeper')?.counters.done).toBe(2)
  }, 30_000)

  it('works for the Python example too: its sleep task spans the restart and counts once', async () => {
    const found = findPython()
    if ('error' in found) throw new Error(found.error)
    const port = await freePort()
    node = await startCore(['--no-demo', '--port', String(port)])
    const { dataDir, url } = node
    const agent = spawnAgent(found.python, ['examples/agents/python_agent.py', '--url', url, '--id', 'py-keeper'], {
      SWARM_MONITOR_AGENT_TOKEN: TEST_TOKENS.agent,
    })
    await agent.waitFor(/registered as py-keeper/)
    const body = { name: 'py nap', kind: 'sleep', payload: { ms: 4_000 }, capabilities: ['python'] }
    const nap = (await postJson(`${url}/api/tasks`, body, TEST_TOKENS.operator)).body as Task
    await until(() => node!.coordinator.getTask(nap.id)?.status === 'running', 5_000, 'the nap running')

    await node.stop()
    node = await startCore(['--no-demo', '--port', String(port), '--data-dir', dataDir])
    await until(() => node!.coordinator.getTask(nap.id)?.status === 'running', 10_000, 'the nap given back')
    expect(node.coordinator.getTask(nap.id)).toMatchObject({ agentId: 'py-keeper', attempts: 1, requeues: 0 })
    await until(() => node!.coordinator.getTask(nap.id)?.status === 'succeeded', 10_000, 'the nap done')
    expect(await taskOf(url, nap.id)).toMatchObject({ attempts: 1, result: { sleptMs: 4_000 } })
  }, 40_000)
})
