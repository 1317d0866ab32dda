/**
 * Work survives a server restart: an SDK agent keeps running its tasks while
 * the server is away, registers again naming them (`running`), and gets them
 * back as the same attempt — including one it finished while the server was
 * down, whose end it sends after registering. Each counts once. A real server
 * (stopped and started again on the same data dir and port), a real SDK agent.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import { closeAgents, sdkAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'
import { freePort } from '../helpers/ports'

type Node = Awaited<ReturnType<typeof startCore>>
let node: Node | null = null
afterEach(async () => {
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
})
