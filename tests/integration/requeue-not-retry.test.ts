/**
 * A requeue is not a retry: a run cut short because the agent left or the
 * server restarted does not use up the task's `maxRetries`, and a task that
 * succeeds in the end carries no error from an earlier attempt (its
 * transitions keep that story). Real servers, real agent connections.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { countedAttempts } from '../../src/shared/attempts'
import type { Task, TaskDetail } from '../../src/shared/domain'
import { closeAgents, rawAgent, registeredRawAgent, type RawAgentSocket } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'

type Core = Awaited<ReturnType<typeof startCore>>
const cores: Core[] = []
afterEach(async () => {
  await closeAgents()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

async function start(argv: string[] = []): Promise<Core> {
  const core = await startCore(['--no-demo', ...argv], { agentHeartbeatTimeoutMs: 5000 })
  cores.push(core)
  return core
}

/** The next task the server hands this agent. */
function nextAssignment(socket: RawAgentSocket): Promise<Task> {
  return new Promise((resolve) => socket.once('task:assign', ({ task }) => resolve(task)))
}

/** An agent that registers while a task waits for it: the assignment may come before the ack. */
async function agentTaking(url: string, id: string): Promise<{ socket: RawAgentSocket; task: Promise<Task> }> {
  const socket = rawAgent(url)
  const task = nextAssignment(socket)
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  const answer = await socket.emitWithAck('agent:register', { id, name: id, capabilities: ['job'] })
  expect(answer.ok).toBe(true)
  return { socket, task }
}

async function submit(core: Core, body: Record<string, unknown>): Promise<Task> {
  const response = await postJson(`${core.url}/api/tasks`, body, TEST_TOKENS.operator)
  expect(response.status).toBe(201)
  return response.body as Task
}

const detail = async (core: Core, id: string) =>
  (await getJson(`${core.url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body as TaskDetail

describe('a requeue is not a retry', () => {
  it('a task requeued by a restart, then done, shows no error and 1 attempt of 1', async () => {
    const first = await start()
    const dataDir = first.dataDir
    const before = await registeredRawAgent(first.url, 'worker', ['job'])
    const assigned = nextAssignment(before)
    const submitted = await submit(first, { name: 'report', kind: 'job', capabilities: ['job'] })
    expect((await assigned).id).toBe(submitted.id)
    expect((await before.emitWithAck('task:progress', { taskId: submitted.id, progress: 0.5 })).ok).toBe(true)
    await cores.pop()!.stop()

    const second = await start(['--data-dir', dataDir])
    const requeued = second.coordinator.getTask(submitted.id)!
    expect(requeued).toMatchObject({ status: 'queued', attempts: 1, requeues: 1 })
    expect(requeued.error).toMatch(/requeued: the server restarted while the task was running/)
    const { socket: after, task: reassigned } = await agentTaking(second.url, 'worker-2')
    const again = await reassigned
    // The new attempt starts clean: the requeue is the previous attempt's story.
    expect(again).toMatchObject({ id: submitted.id, attempts: 2, requeues: 1, error: null })
    expect((await after.emitWithAck('task:complete', { taskId: submitted.id, result: 'ok' })).ok).toBe(true)

    const done = second.coordinator.getTask(submitted.id)!
    expect(done).toMatchObject({ status: 'succeeded', error: null, result: 'ok', attempts: 2, requeues: 1 })
    expect(countedAttempts(done)).toBe(1)
    // Stored the same way, with the requeue kept in the transitions.
    const stored = await detail(second, submitted.id)
    expect(stored).toMatchObject({ status: 'succeeded', error: null, attempts: 2, requeues: 1 })
    expect(stored.transitions.map((t) => [t.status, t.attempt])).toEqual([
      ['queued', 0],
      ['assigned', 1],
      ['running', 1],
      ['queued', 1],
      ['assigned', 2],
      ['succeeded', 2],
    ])
    expect(stored.transitions.map((t) => t.error !== null)).toEqual([false, false, false, true, false, false])
    expect(stored.transitions[3]!.error).toMatch(/server restarted/)
  })

  it('a run cut short by a lost agent leaves the retry budget whole: the next failure is retried', async () => {
    const core = await start()
    const leaver = await registeredRawAgent(core.url, 'leaver', ['job'])
    const assigned = nextAssignment(leaver)
    const submitted = await submit(core, { name: 'flaky', kind: 'job', capabilities: ['job'], maxRetries: 1 })
    await assigned
    leaver.disconnect()
    await until(() => core.coordinator.getTask(submitted.id)?.status === 'queued', 2000, 'the requeue')
    expect(core.coordinator.getTask(submitted.id)).toMatchObject({ attempts: 1, requeues: 1 })

    const { socket: stayer, task: reassigned } = await agentTaking(core.url, 'stayer')
    const second = await reassigned
    expect(second.attempts).toBe(2)
    const third = nextAssignment(stayer)
    expect((await stayer.emitWithAck('task:fail', { taskId: submitted.id, error: 'exit 3' })).ok).toBe(true)
    // maxRetries 1: the failure was the first counted attempt, so a retry follows (after the 1 s backoff).
    expect(core.coordinator.getTask(submitted.id)).toMatchObject({ status: 'queued', error: 'attempt 2: exit 3' })
    expect((await third).attempts).toBe(3)
    expect((await stayer.emitWithAck('task:fail', { taskId: submitted.id, error: 'exit 3' })).ok).toBe(true)
    expect(core.coordinator.getTask(submitted.id)).toMatchObject({ status: 'failed', attempts: 3, requeues: 1 })
  })
})
