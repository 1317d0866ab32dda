/**
 * A client cannot hold the server up at stop: a half-sent request (slowloris)
 * or a browser's busy keep-alive connection is cut after a short grace, and no
 * new Socket.IO session starts once stopping began.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { startCore } from '../helpers/core'

describe('stopping', () => {
  it('ends within seconds even with a request that never finishes', async () => {
    const core = await startCore(['--no-demo'])
    const { port } = new URL(core.url)
    const socket = connect(Number(port), '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    // Headers never end: Node would wait for its 60 s headers timeout.
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    const started = Date.now()
    await core.stop()
    expect(Date.now() - started).toBeLessThan(10_000)
    await closed
  })
})
