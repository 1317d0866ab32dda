/**
 * The agent SDK on the shared resilient connection, under real faults: a
 * half-open link is noticed by the heartbeat and the agent registers again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { detectionBoundMs } from '../../src/shared/client/heartbeat'
import type { Task } from '../../src/shared/domain'
import { closeAgents, sdkAgent } from '../helpers/agents'
import { postJson, startCore, TEST_TOKENS, until } from '../helpers/core'
import { FaultProxy } from '../helpers/fault-proxy'

type TestCore = Awaited<ReturnType<typeof startCore>>

describe('an SDK agent behind a faulty network', () => {
  let core: TestCore
  let proxy: FaultProxy
  beforeAll(async () => {
    core = await startCore(['--no-demo'])
    proxy = await FaultProxy.start(core.url)
  })
  afterEach(async () => {
    proxy.heal()
    await closeAgents()
  })
  afterAll(async () => {
    await proxy.close()
    await core.stop()
  })

  it('notices a black-holed link by its heartbeat, reconnects and registers again', async () => {
    const heartbeat = { heartbeatIntervalMs: 300, heartbeatTimeoutMs: 300 }
    const agent = sdkAgent(proxy.url, {
      id: 'behind-proxy',
      capabilities: ['dark'],
      handler: () => 'done',
      ...heartbeat,
    })
    await agent.connected
    expect(agent.state).toBe('registered')
    await until(() => agent.connection.status.rttMs !== null, 2000, 'a heartbeat round trip')

    proxy.blackhole()
    const started = Date.now()
    await until(() => agent.state !== 'registered', 5000, 'the dead link to be noticed')
    expect(Date.now() - started).toBeLessThanOrEqual(detectionBoundMs({ intervalMs: 300, timeoutMs: 300 }) + 500)
    expect(agent.connection.status.lastError?.message).toMatch(/heartbeat/)

    proxy.blackhole(false)
    await until(() => agent.state === 'registered', 10_000, 'registered again')
    const { body } = await postJson(
      `${core.url}/api/tasks`,
      { name: 'after the dark', kind: 'x', capabilities: ['dark'] },
      TEST_TOKENS.operator,
    )
    const id = (body as Task).id
    await until(() => core.coordinator.getTask(id)?.status === 'succeeded', 5000, 'the task to run')
    expect(agent.connection.status.history.map((t) => t.to)).toEqual([
      'connecting',
      'connected',
      'reconnecting',
      'connected',
    ])
  })

  it('backs off while the server is unreachable and comes back when it is', async () => {
    proxy.down()
    const agent = sdkAgent(proxy.url, {
      id: 'patient',
      handler: () => null,
      reconnectDelayMs: 50,
      reconnectDelayMaxMs: 400,
    })
    await until(() => agent.connection.status.attempt >= 4, 5000, 'a few attempts')
    expect(agent.state).toBe('reconnecting')
    proxy.down(false)
    await agent.connected
    expect(agent.state).toBe('registered')
  })
})
