/**
 * The Python viewer example (python-socketio) against a real server, with
 * and without compression: it gets the same events either way, and with
 * deflate-raw some of them compressed, which it inflates with zlib.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findPython, killAgentProcesses, spawnAgent } from '../helpers/agents'
import { TEST_TOKENS, startCore } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

let core: TestCore
beforeAll(async () => {
  core = await startCore(['--demo-agents', '6', '--demo-rate', '20'], { demoSpeed: 0.1 })
})
afterAll(async () => {
  killAgentProcesses()
  await core.stop()
})

interface Summary {
  encoding: string
  snapshots: number
  batches: number
  events: number
  compressed: number
  seq: number
}

async function watch(encoding: string): Promise<Summary> {
  const found = findPython()
  if ('error' in found) throw new Error(found.error)
  const viewer = spawnAgent(
    found.python,
    ['examples/viewers/python_viewer.py', '--url', core.url, '--encoding', encoding, '--seconds', '1.5'],
    { SWARM_MONITOR_VIEWER_TOKEN: TEST_TOKENS.viewer },
  )
  const { code } = await viewer.exited
  expect(code, viewer.output()).toBe(0)
  const last = viewer.output().trim().split('\n').at(-1)!
  return JSON.parse(last) as Summary
}

describe('examples/viewers/python_viewer.py', () => {
  it('follows the swarm with deflate-raw, inflating what comes compressed', async () => {
    const summary = await watch('deflate-raw')
    expect(summary.encoding).toBe('deflate-raw')
    expect(summary.snapshots).toBe(1)
    expect(summary.events).toBeGreaterThan(20)
    expect(summary.compressed).toBeGreaterThan(1)
  })

  it('and with plain JSON, as any Socket.IO client would', async () => {
    const summary = await watch('json')
    expect(summary.encoding).toBe('json')
    expect(summary.events).toBeGreaterThan(20)
    expect(summary.compressed).toBe(0)
  })

  it('takes its token from the environment only, and says so when it is missing', async () => {
    const found = findPython()
    if ('error' in found) throw new Error(found.error)
    const viewer = spawnAgent(found.python, ['examples/viewers/python_viewer.py', '--url', core.url], {
      SWARM_MONITOR_VIEWER_TOKEN: '',
    })
    const { code } = await viewer.exited
    expect(code).toBe(2)
    expect(viewer.output()).toContain('set SWARM_MONITOR_VIEWER_TOKEN')
  })
})
