/**
 * The liveness and alert flags reach what they tune: a real core, real
 * agents, real failing shell tasks. (Their parsing and bounds are in
 * tests/unit/core/config.test.ts; the rules themselves in alerts.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Alert } from '../../src/shared/domain'
import type { Snapshot } from '../../src/shared/protocol'
import { closeAgents, registeredRawAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>
const cores: TestCore[] = []
afterEach(async () => {
  await closeAgents()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

async function start(argv: string[]): Promise<TestCore> {
  const core = await startCore(argv)
  cores.push(core)
  return core
}

describe('--heartbeat-timeout', () => {
  it('closes a silent agent after that many seconds, not the default 15', async () => {
    const core = await start(['--no-demo', '--heartbeat-timeout', '6'])
    const silent = await registeredRawAgent(core.url, 'silent', ['quiet'])
    const registeredAt = Date.now()
    const reason = await new Promise<string>((resolve) => silent.once('agent:closed', (event) => resolve(event.reason)))
    const after = Date.now() - registeredAt
    expect(reason).toBe('heartbeat_timeout')
    expect(after).toBeGreaterThanOrEqual(5_000)
    expect(after).toBeLessThan(12_000)
    expect(core.coordinator.getAgent('silent')?.status).toBe('offline')
  }, 20_000)
})

describe('--alert-error-warning and --alert-error-critical', () => {
  it('raise the error-rate alert at the shares given: 3 failures in 21 (14 %, under the default 25 %) is critical at 10 %', async () => {
    const core = await start([
      '--no-demo',
      '--local-agents',
      '2',
      '--alert-error-warning',
      '0.05',
      '--alert-error-critical',
      '0.1',
    ])
    const commands = [...Array.from({ length: 18 }, () => 'true'), 'exit 1', 'exit 2', 'exit 3']
    for (const command of commands) {
      const response = await postJson(
        `${core.url}/api/tasks`,
        { name: command, kind: 'shell', payload: { command } },
        TEST_TOKENS.operator,
      )
      expect(response.status).toBe(201)
    }
    await until(() => core.coordinator.totals.finished >= 21, 15_000, 'the tasks')
    // The engine evaluates every second; poll what a viewer sees.
    let alert: Alert | undefined
    for (const deadline = Date.now() + 10_000; alert === undefined && Date.now() < deadline;) {
      const { body } = await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)
      alert = (body as Snapshot).alerts.find((a) => a.rule === 'error-rate' && a.severity === 'critical')
      if (alert === undefined) await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(alert, 'a critical error-rate alert').toBeDefined()
    expect(alert!.message).toMatch(/14 %|3 of 21/)
  }, 30_000)
})
