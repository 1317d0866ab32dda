/**
 * A client cannot hold the server up at stop: whatever it is and whatever it
 * does, every connection is closed within about two seconds — a half-sent
 * request (slowloris), a raw WebSocket that never answers the close frame,
 * the Python example agent (python-socketio, whose websocket-client does not
 * answer it in time either), a TLS connection that never finishes its
 * handshake; in process (`core.stop()`) and for the built CLI on SIGTERM.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findPython, killAgentProcesses, spawnAgent } from '../helpers/agents'
import { TEST_TOKENS, TOKEN_ENV, connectDashboard, startCore } from '../helpers/core'
import { builtEntry, run } from '../helpers/process'
import { rawConnection, upgradeRequest, type RawConnection } from '../helpers/raw-http'
import { selfSignedCert } from '../helpers/tls'

/** Stop must end within this (the grace is 0.5 s; the rest is slack for a busy machine). */
const STOP_BOUND_MS = 2000

afterEach(() => killAgentProcesses())

/** A masked client text frame (RFC 6455), for payloads under 126 bytes. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = Buffer.from([1, 2, 3, 4])
  return Buffer.concat([
    Buffer.from([0x81, 0x80 | payload.length]),
    mask,
    payload.map((byte, i) => byte ^ mask[i % 4]!),
  ])
}

/**
 * A WebSocket client by hand that joins `/agents` and then never answers
 * anything: not pings, not the server's close frame.
 */
async function deafWebSocket(url: string): Promise<RawConnection> {
  const connection = await rawConnection(url)
  connection.write(upgradeRequest('/socket.io/?EIO=4&transport=websocket'))
  expect((await connection.response()).status).toBe(101)
  connection.write(textFrame(`40/agents,${JSON.stringify({ token: TEST_TOKENS.agent })}`))
  const started = Date.now()
  while (!connection.received().includes('40/agents,{"sid"')) {
    if (Date.now() - started > 5000) throw new Error(`not admitted to /agents: ${connection.received()}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return connection
}

async function pythonAgent(url: string, id: string) {
  const found = findPython()
  if ('error' in found) throw new Error(found.error)
  const agent = spawnAgent(found.python, [
    'examples/agents/python_agent.py',
    '--url',
    url,
    '--token',
    TEST_TOKENS.agent,
    '--id',
    id,
  ])
  await agent.waitFor(new RegExp(`registered as ${id}`))
  return agent
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = Date.now()
  await action()
  return Date.now() - started
}

describe('stopping', () => {
  it('ends within seconds even with a request that never finishes', async () => {
    const core = await startCore(['--no-demo'])
    const slow = await rawConnection(core.url)
    // Headers never end: Node would wait for the headers timeout.
    slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    expect(await timed(() => core.stop())).toBeLessThan(STOP_BOUND_MS)
    await slow.closed
  })

  it('ends within seconds with a raw WebSocket client that never answers the close frame', async () => {
    const core = await startCore(['--no-demo'])
    const deaf = await deafWebSocket(core.url)
    const { socket: viewer } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    const viewerGone = new Promise<string>((resolve) => viewer.once('disconnect', (reason) => resolve(reason)))
    expect(await timed(() => core.stop())).toBeLessThan(STOP_BOUND_MS)
    await deaf.closed
    // Not a namespace DISCONNECT (`io server disconnect`), after which a client would not come back by itself.
    expect(await viewerGone).toBe('transport close')
  })

  it('ends within seconds with the Python example agent connected', async () => {
    const core = await startCore(['--no-demo'])
    await pythonAgent(core.url, 'py-stop')
    expect(await timed(() => core.stop())).toBeLessThan(STOP_BOUND_MS)
  })

  it('ends within seconds with a TLS connection that never finishes its handshake, and a WSS viewer', async () => {
    const cert = selfSignedCert()
    const core = await startCore(['--no-demo', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile])
    const { port } = new URL(core.url)
    const silent = await rawConnection(`http://127.0.0.1:${port}`)
    const wss = await rawConnection(core.url, { ca: cert.cert })
    wss.write(upgradeRequest('/socket.io/?EIO=4&transport=websocket'))
    expect((await wss.response()).status).toBe(101)
    expect(await timed(() => core.stop())).toBeLessThan(STOP_BOUND_MS)
    await Promise.all([silent.closed, wss.closed])
  })

  it('the built CLI exits 0 within seconds of SIGTERM with the Python agent and a deaf WebSocket connected', async () => {
    const server = run(
      builtEntry('cli'),
      ['--port', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'sm-stop-')), '--no-demo', '--local-agents', '0'],
      TOKEN_ENV,
    )
    try {
      const [, url] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)
      await pythonAgent(url!, 'py-sigterm')
      const deaf = await deafWebSocket(url!)
      let code: number | null = null
      expect(await timed(async () => (code = await server.stop()))).toBeLessThan(STOP_BOUND_MS)
      expect(code).toBe(0)
      await deaf.closed
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL')
    }
  })
})
