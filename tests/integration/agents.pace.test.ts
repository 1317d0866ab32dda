/**
 * The per-connection rate limit against well-behaved agents, on real
 * servers with the default limits (50 a second, bursts of 100, 10 s):
 * the SDK paces itself at a high task rate, and a server whose own event
 * loop is blocked does not refuse a client that sent on time.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import { closeAgents, killAgentProcesses, sdkAgent, spawnAgent } from '../helpers/agents'
import { TEST_TOKENS, connectDashboard, postJson, startCore, until } from '../helpers/core'
import { metric, readLogs } from '../security/support'

type TestCore = Awaited<ReturnType<typeof startCore>>

let core: TestCore | null = null
afterEach(async () => {
  killAgentProcesses()
  await closeAgents()
  await core?.stop()
  core = null
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('an SDK agent at a high task rate', () => {
  it('runs 50 short tasks a second for 10 s with progress and a log line each: no refusal, no disconnect, each task once', async () => {
    core = await startCore(['--no-demo'])
    const url = core.url
    const runs = new Map<string, number>()
    const agent = sdkAgent(url, {
      id: 'sprinter',
      capabilities: ['sprint'],
      concurrency: 2,
      handler: async (task, ctx) => {
        runs.set(task.id, (runs.get(task.id) ?? 0) + 1)
        ctx.progress(0.5)
        ctx.log('info', `line for ${task.id}`)
        await sleep(5)
        ctx.progress(0.9)
        return 'ok'
      },
    })
    await agent.connected
    const { socket: viewer } = await connectDashboard(url, TEST_TOKENS.viewer)
    const lines = new Set<string>()
    viewer.on('events', (events) => {
      for (const event of events) if (event.type === 'task:log') lines.add(event.message)
    })

    // 50 a second, each submission at its own time, for 10 s.
    const ids: string[] = []
    const started = Date.now()
    for (let i = 0; i < 500; i++) {
      const wait = started + i * 20 - Date.now()
      if (wait > 0) await sleep(wait)
      const { status, body } = await postJson(
        `${url}/api/tasks`,
        { name: `sprint ${i}`, kind: 'sprint', capabilities: ['sprint'] },
        TEST_TOKENS.operator,
      )
      expect(status).toBe(201)
      ids.push((body as Task).id)
    }
    await until(() => core!.coordinator.totals.succeeded === 500, 15_000, 'every task to succeed')

    expect(await metric(url, 'swarm_rate_limited_total', { via: '/agents' })).toBe(0)
    expect(agent.connection.status.history.map((t) => t.to)).toEqual(['connecting', 'connected'])
    expect(agent.state).toBe('registered')
    for (const id of ids) expect(core.coordinator.getTask(id)).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(runs.size).toBe(500)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    // Every log line arrived, before its task's end (the viewer sees them within the 1 s log window).
    await until(() => lines.size === 500, 3000, 'every log line')
    viewer.disconnect()
    await core.stop()
    expect(readLogs(core.dataDir)).not.toMatch(/connection closed for flooding|"msg":"rate limited"/)
    core = null
  }, 40_000)
})

describe('a server whose event loop is blocked', () => {
  it('does not refuse a client that sent 40 messages a second while the loop was blocked for 4 s', async () => {
    core = await startCore(['--no-demo'])
    const sender = spawnAgent(process.execPath, [
      '--import',
      'tsx',
      'tests/helpers/paced-sender.ts',
      core.url,
      TEST_TOKENS.agent,
      'paced',
      '40',
      '8',
    ])
    await sender.waitFor(/registered/, 15_000)
    await sleep(1500)
    // The process hosting the core does nothing else for 4 s; the sender keeps sending.
    const end = Date.now() + 4000
    while (Date.now() < end) {
      // busy: no timer, no I/O
    }
    const [line] = await sender.waitFor(/^\{.*\}$/m, 20_000)
    const outcome = JSON.parse(line) as { codes: Record<string, number>; answered: number; disconnected: string | null }
    expect(outcome).toMatchObject({ answered: 320, disconnected: null })
    expect(outcome.codes).toEqual({ ok: 320 })
    expect(await metric(core.url, 'swarm_rate_limited_total', { via: '/agents' })).toBe(0)
  }, 40_000)
})
