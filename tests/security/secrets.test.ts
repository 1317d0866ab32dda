/**
 * Tokens (right and wrong ones) and task secrets never reach the log files,
 * through everything that logs: accepted and refused HTTP requests and
 * handshakes, operator commands, agents, refusals by origin and by rate,
 * errors. The log level is `trace`, so nothing is held back by level.
 */
import { io, type Socket } from 'socket.io-client'
import { describe, expect, it } from 'vitest'
import { closeAgents, rawAgent, registeredRawAgent } from '../helpers/agents'
import { TEST_TOKENS, connectDashboard, dashboardClient, postJson, startCore } from '../helpers/core'
import { readLogs, sleep } from './support'

const WRONG_TOKENS = ['wrong-but-secret-token-aaaa', 'another-guess-secret-bbbbbbb']
const TASK_SECRET = 'env-secret-value-cccccccccc'

describe('secrets in logs', () => {
  it('logs what happened, and no token or task secret', async () => {
    const core = await startCore(['--no-demo', '--log-level', 'trace'], {
      limits: { socketPerSecond: 5, socketBurst: 5, socketAbuseMs: 400, httpPerMinute: 3 },
    })
    const opened: Socket[] = []
    try {
      for (const token of [...Object.values(TEST_TOKENS), ...WRONG_TOKENS]) {
        for (const path of ['/api/snapshot', '/api/tasks', '/metrics', '/api/tasks/nope']) {
          await fetch(`${core.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
          // A proxied request, over the rate limit after a few.
          await fetch(`${core.url}${path}?token=${token}`, {
            headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' },
          })
        }
        await fetch(`${core.url}/api/tasks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: `{"name": "${token}", "kind": `,
        })
        await fetch(`${core.url}/api/snapshot`, {
          headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example' },
        })
        for (const namespace of ['/dashboard', '/agents']) {
          const socket = io(`${core.url}${namespace}`, {
            auth: { token },
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
          })
          opened.push(socket)
          await new Promise<void>((resolve) => {
            socket.once('connect', () => resolve())
            socket.once('connect_error', () => resolve())
          })
        }
        const evil = dashboardClient(core.url, token, { extraHeaders: { origin: 'https://evil.example' } })
        opened.push(evil)
        await new Promise<void>((resolve) => evil.once('connect_error', () => resolve()))
      }

      const { socket: operator } = await connectDashboard(core.url, TEST_TOKENS.operator)
      opened.push(operator as unknown as Socket)
      await operator.emitWithAck('task:submit', {
        name: 'with secret',
        kind: 'shell',
        payload: { command: 'true', env: { SECRET: TASK_SECRET } },
      })
      await postJson(
        `${core.url}/api/tasks`,
        { name: 'with secret', kind: 'shell', payload: { command: 'true', env: { SECRET: TASK_SECRET } } },
        TEST_TOKENS.operator,
      )
      await operator.emitWithAck('task:submit', { name: TEST_TOKENS.operator.repeat(20), kind: 'report' })
      ;(operator as unknown as Socket).emit(TEST_TOKENS.viewer, { token: TEST_TOKENS.agent })
      // Flood until disconnected: rate-limit warnings and the disconnect line.
      const gone = new Promise<void>((resolve) => operator.once('disconnect', () => resolve()))
      const flood = setInterval(() => operator.emit('ping', () => {}), 5)
      await gone
      clearInterval(flood)

      const agent = await registeredRawAgent(core.url, 'logger-agent')
      await agent.emitWithAck('log', { level: 'info', message: 'hello' })
      await agent.emitWithAck('agent:register', { id: 'other', name: TEST_TOKENS.agent, capabilities: [] })
      const unregistered = rawAgent(core.url)
      await new Promise<void>((resolve) => unregistered.once('connect', () => resolve()))
      await unregistered.emitWithAck('task:complete', { taskId: TEST_TOKENS.agent })
      await sleep(100)
    } finally {
      for (const socket of opened) socket.disconnect()
      await closeAgents()
      await core.stop()
    }

    const log = readLogs(core.dataDir)
    // It logged the events an operator needs...
    for (const line of [
      'connection refused',
      'request refused',
      'origin refused',
      'viewer connected',
      'operator command',
      'rate limited',
      'connection closed for flooding',
    ]) {
      expect(log).toContain(`"msg":"${line}"`)
    }
    // ...and no secret.
    for (const secret of [...Object.values(TEST_TOKENS), ...WRONG_TOKENS, TASK_SECRET]) {
      expect(log.includes(secret), `the log holds ${secret}`).toBe(false)
    }
  })
})
