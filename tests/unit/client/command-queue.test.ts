import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CommandQueue } from '../../../src/shared/client/command-queue'
import type { Result } from '../../../src/shared/result'

interface Sent {
  name: string
  payload: unknown
  answer: (result: Result<unknown>) => void
  lose: (error: Error) => void
}

function queue(options: { limit?: number; timeoutMs?: number; ratePerSecond?: number; burst?: number } = {}) {
  const sent: Sent[] = []
  const q = new CommandQueue({
    ...options,
    send: (name, payload) =>
      new Promise((resolve, reject) => sent.push({ name, payload, answer: resolve, lose: reject })),
  })
  return { q, sent }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('CommandQueue', () => {
  it('holds commands while the link is down and sends each once, in order, when it comes up', async () => {
    const { q, sent } = queue()
    const results = Array.from({ length: 5 }, (_, i) => q.enqueue('agent:pause', { agentId: `a${i}` }))
    expect(q.queued).toBe(5)
    expect(sent).toHaveLength(0)
    q.linkUp()
    expect(sent.map((s) => (s.payload as { agentId: string }).agentId)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4'])
    expect(q).toMatchObject({ queued: 0, pending: 5 })
    sent.forEach((s, i) => s.answer({ ok: true, data: i }))
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4].map((data) => ({ ok: true, data })))
    // A reconnect later sends nothing again.
    q.linkDown()
    q.linkUp()
    expect(sent).toHaveLength(5)
  })

  it('refuses a command beyond the limit with queue_full, and accepts again once there is room', async () => {
    const { q } = queue({ limit: 1000 })
    for (let i = 0; i < 1000; i++) void q.enqueue('task:cancel', { taskId: `t${i}` })
    const refused = await q.enqueue('task:cancel', { taskId: 'one-too-many' })
    expect(refused).toMatchObject({ ok: false, error: { code: 'queue_full' } })
    expect(!refused.ok && refused.error.message).toMatch(/1000 commands are already waiting/)
    q.linkUp()
    expect(q.queued).toBe(960)
    const accepted = q.enqueue('task:cancel', { taskId: 'room' })
    expect(await Promise.race([accepted, Promise.resolve('waiting')])).toBe('waiting')
    expect(q.queued).toBe(961)
  })

  it('never resends a command in flight when the link drops: the caller learns the outcome is unknown', async () => {
    const { q, sent } = queue()
    q.linkUp()
    const inFlight = q.enqueue('task:submit', { name: 'x' })
    q.linkDown()
    const waiting = q.enqueue('task:submit', { name: 'y' })
    expect(await inFlight).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringMatching(/may or may not have been applied/) },
    })
    // The late rejection from socket.io-client changes nothing.
    sent[0]!.lose(new Error('socket has been disconnected'))
    q.linkUp()
    expect(sent.map((s) => (s.payload as { name: string }).name)).toEqual(['x', 'y'])
    sent[1]!.answer({ ok: true, data: 'y' })
    expect(await waiting).toEqual({ ok: true, data: 'y' })
  })

  it('answers a command whose acknowledgement times out with a clear unavailable', async () => {
    const { q, sent } = queue({ timeoutMs: 10_000 })
    q.linkUp()
    const result = q.enqueue('agent:resume', { agentId: 'a' })
    sent[0]!.lose(new Error('operation has timed out'))
    expect(await result).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringMatching(/no answer within 10 s/) },
    })
  })

  it('paces a backlog under the server’s rate limit: a burst, then a steady rate', () => {
    const { q, sent } = queue({ ratePerSecond: 40, burst: 40 })
    for (let i = 0; i < 200; i++) void q.enqueue('task:retry', { taskId: `t${i}` })
    q.linkUp()
    expect(sent).toHaveLength(40)
    vi.advanceTimersByTime(1000)
    expect(sent.length).toBeGreaterThanOrEqual(79)
    expect(sent.length).toBeLessThanOrEqual(81)
    vi.advanceTimersByTime(3000)
    expect(sent).toHaveLength(200)
    expect(sent.map((s) => (s.payload as { taskId: string }).taskId)).toEqual(
      Array.from({ length: 200 }, (_, i) => `t${i}`),
    )
  })

  it('refuses everything left when disposed', async () => {
    const { q } = queue()
    const waiting = q.enqueue('task:cancel', { taskId: 't' })
    q.dispose('the client was closed')
    expect(await waiting).toEqual({ ok: false, error: { code: 'unavailable', message: 'the client was closed' } })
  })
})
