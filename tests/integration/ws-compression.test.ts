import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startCore } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>
const cores: TestCore[] = []
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

/** The extensions the server accepted for a raw Engine.IO WebSocket that offers permessage-deflate. */
async function negotiated(core: TestCore): Promise<string> {
  const url = `${core.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`
  const socket = new WebSocket(url, { perMessageDeflate: true })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return socket.extensions
  } finally {
    socket.close()
  }
}

describe('WebSocket compression', () => {
  it('is off by default', async () => {
    const core = await startCore(['--no-demo'])
    cores.push(core)
    expect(await negotiated(core)).toBe('')
  })

  it('is negotiated with --ws-compression', async () => {
    const core = await startCore(['--no-demo', '--ws-compression'])
    cores.push(core)
    expect(await negotiated(core)).toContain('permessage-deflate')
  })
})
