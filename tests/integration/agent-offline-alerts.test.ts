/**
 * An agent that goes offline is reported as it went, at the matching
 * severity: a clean disconnect (the agent closed its connection, as the SDK's
 * `close()` and Ctrl-C of the examples do) is info; a connection that ended
 * without a goodbye (a killed process, a cut network) a warning; an agent
 * that fell silent (heartbeat timeout) critical. Real server, real clients.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../src/shared/domain'
import { closeAgents, registeredRawAgent, sdkAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, startCore, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>
let core: TestCore
beforeAll(async () => {
  core = await startCore(['--no-demo'], { agentHeartbeatTimeoutMs: 1500 })
})
afterAll(() => core.stop())
afterEach(() => closeAgents())

/** The server's alert about this agent, once its engine has raised it (it evaluates every second). */
async function alertAbout(agentId: string): Promise<Alert> {
  let found: Alert | undefined
  const started = Date.now()
  while (!found && Date.now() - started < 5000) {
    const { body } = await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)
    found = (body as { alerts: Alert[] }).alerts.find((alert) => alert.agentId === agentId && !alert.resolvedAt)
    if (!found) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (!found) throw new Error(`no alert about ${agentId}`)
  return found
}

describe('an agent that goes offline is said as it went', () => {
  it('a clean disconnect (the SDK closing, Ctrl-C): info, "disconnected", not a lost heartbeat', async () => {
    const agent = sdkAgent(core.url, { id: 'leaves-cleanly', heartbeatIntervalMs: 200, handler: async () => null })
    await agent.connected
    await agent.close()
    await until(() => core.coordinator.getAgent('leaves-cleanly')?.status === 'offline', 2000, 'offline')
    expect(core.coordinator.getAgent('leaves-cleanly')?.offline).toMatchObject({
      cause: 'disconnected',
      at: expect.any(Number),
    })
    const alert = await alertAbout('leaves-cleanly')
    expect(alert).toMatchObject({ rule: 'agent-disconnected', severity: 'info' })
    expect(alert.message).toMatch(/disconnected: it closed its connection itself/)
    expect(alert.message).not.toMatch(/heartbeat/)
  })

  it('a connection that ends without a goodbye (a killed process): a warning, "connection dropped"', async () => {
    const socket = await registeredRawAgent(core.url, 'cut-off')
    // The transport closes under the namespace, as when the process dies: no namespace disconnect is sent.
    socket.io.engine.close()
    await until(() => core.coordinator.getAgent('cut-off')?.status === 'offline', 2000, 'offline')
    expect(core.coordinator.getAgent('cut-off')?.offline).toMatchObject({ cause: 'dropped', detail: 'transport close' })
    const alert = await alertAbout('cut-off')
    expect(alert).toMatchObject({ rule: 'agent-connection-dropped', severity: 'warning' })
    expect(alert.message).toMatch(/connection dropped without a goodbye \(transport close\)/)
  })

  it('an agent that falls silent past the heartbeat timeout: critical, "lost its heartbeat"', async () => {
    await registeredRawAgent(core.url, 'goes-quiet')
    await until(() => core.coordinator.getAgent('goes-quiet')?.status === 'offline', 5000, 'offline')
    expect(core.coordinator.getAgent('goes-quiet')?.offline).toMatchObject({ cause: 'silent' })
    const alert = await alertAbout('goes-quiet')
    expect(alert).toMatchObject({ rule: 'agent-offline', severity: 'critical' })
    expect(alert.message).toMatch(/lost its heartbeat/)
  })

  it('coming back clears the cause and resolves the alert', async () => {
    const first = sdkAgent(core.url, { id: 'returns', heartbeatIntervalMs: 200, handler: async () => null })
    await first.connected
    await first.close()
    const alert = await alertAbout('returns')
    const again = sdkAgent(core.url, { id: 'returns', heartbeatIntervalMs: 200, handler: async () => null })
    await again.connected
    expect(core.coordinator.getAgent('returns')).toMatchObject({ status: 'idle', offline: null })
    let resolved: Alert | undefined
    const started = Date.now()
    while (!resolved?.resolvedAt && Date.now() - started < 5000) {
      const { body } = await getJson(`${core.url}/api/snapshot`, TEST_TOKENS.viewer)
      resolved = (body as { alerts: Alert[] }).alerts.find((a) => a.id === alert.id)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(resolved?.resolvedAt).toEqual(expect.any(Number))
  })
})
