import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createAgent } from '../../../src/sdk/agent'
import { Outbox, type OutboxEvent, type OutboxOptions } from '../../../src/sdk/outbox'

interface Sent {
  at: number
  event: OutboxEvent
  message: { taskId?: string; progress?: number; message?: string; level?: string }
}

function outbox(options: OutboxOptions = {}) {
  const sent: Sent[] = []
  const box = new Outbox((event, message) => sent.push({ at: Date.now(), event, message }), options)
  const lines = (taskId: string) => sent.filter((s) => s.message.taskId === taskId)
  return { box, sent, lines }
}
const log = (taskId: string, message: string) => ({ taskId, level: 'info' as const, message })

describe('the SDK outbox', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
  })
  afterEach(() => vi.useRealTimers())

  it('never sends more than its pace: 40 at once, then 40 a second, whatever is asked', async () => {
    const { box, sent } = outbox()
    for (let i = 0; i < 400; i++) box.log(log(`t${i % 4}`, `line ${i}`))
    expect(sent).toHaveLength(40)
    await vi.advanceTimersByTimeAsync(9000)
    expect(sent).toHaveLength(400)
    // In every second-long window, at most the burst plus a second's worth: 80 < the server's 100 + 50.
    for (let from = 0; from <= 9000; from += 100) {
      expect(sent.filter((s) => s.at >= from && s.at < from + 1000).length).toBeLessThanOrEqual(80)
    }
    // And over the long run no more than 40 a second.
    expect(sent.filter((s) => s.at >= 1000 && s.at < 9000).length).toBeLessThanOrEqual(40 * 8 + 1)
    expect(sent.map((s) => s.message.message)).toEqual(Array.from({ length: 400 }, (_, i) => `line ${i}`))
  })

  it('sends only the latest unsent progress of a task; a replaced progress keeps its text as a log line', async () => {
    const { box, sent, lines } = outbox({ burst: 1, perSecond: 10 })
    box.log(log('busy', 'first')) // spends the one token
    box.progress('a', { taskId: 'a', progress: 0 })
    box.progress('a', { taskId: 'a', progress: 0.3, message: 'a third' })
    box.progress('a', { taskId: 'a', progress: 0.6 })
    box.progress('a', { taskId: 'a', progress: 0.9 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(lines('a').map((s) => [s.event, s.message.progress ?? s.message.message])).toEqual([
      ['log', 'a third'],
      ['task:progress', 0.9],
    ])
    expect(sent).toHaveLength(3)
  })

  it('drops a task’s unsent progress when it ends, and sends its end after its lines, not after other tasks’', async () => {
    const { box, sent } = outbox({ burst: 2, perSecond: 10 })
    box.log(log('noisy', 'n1'))
    box.log(log('noisy', 'n2'))
    for (let i = 3; i <= 20; i++) box.log(log('noisy', `n${i}`))
    box.progress('quiet', { taskId: 'quiet', progress: 0 })
    box.final('task:complete', { taskId: 'quiet', result: 1 })
    // The quiet task's end leaves at once: its progress is dropped, the noisy task's queue is not its business.
    expect(sent.at(-1)).toMatchObject({ event: 'task:complete', message: { taskId: 'quiet' } })
    expect(sent.some((s) => s.event === 'task:progress')).toBe(false)

    box.final('task:fail', { taskId: 'noisy', error: 'x' })
    expect(sent.filter((s) => s.event === 'task:fail')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(5000)
    const noisy = sent.filter((s) => s.message.taskId === 'noisy')
    expect(noisy.map((s) => s.message.message ?? s.event)).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `n${i + 1}`),
      'task:fail',
    ])
    expect(box.queued).toBe(0)
  })

  it('holds at most maxQueued lines: later log lines are dropped and a note says how many, before the end', async () => {
    const { box, lines } = outbox({ burst: 1, perSecond: 100, maxQueued: 10 })
    for (let i = 0; i < 51; i++) box.log(log('chatty', `line ${i}`))
    expect(box.queued).toBe(10)
    box.final('task:complete', { taskId: 'chatty' })
    await vi.advanceTimersByTimeAsync(1000)
    const sent = lines('chatty')
    expect(sent.slice(0, 11).map((s) => s.message.message)).toEqual(Array.from({ length: 11 }, (_, i) => `line ${i}`))
    expect(sent[11]).toMatchObject({
      event: 'log',
      message: { level: 'warn', message: expect.stringMatching(/^… 40 log lines dropped/) },
    })
    expect(sent[12]?.event).toBe('task:complete')
    expect(sent).toHaveLength(13)
  })

  it('puts the note in place of the dropped lines when there is room again', async () => {
    const { box, lines } = outbox({ burst: 1, perSecond: 100, maxQueued: 2 })
    for (let i = 0; i < 5; i++) box.log(log('t', `early ${i}`))
    await vi.advanceTimersByTimeAsync(100)
    box.log(log('t', 'later'))
    await vi.advanceTimersByTimeAsync(100)
    expect(lines('t').map((s) => s.message.message?.replace(/:.*/, ''))).toEqual([
      'early 0',
      'early 1',
      'early 2',
      '… 2 log lines dropped',
      'later',
    ])
  })

  it('sends nothing more about a forgotten (cancelled) task, and nothing at all after clear()', async () => {
    const { box, sent } = outbox({ burst: 1, perSecond: 10 })
    box.log(log('a', 'a0'))
    box.log(log('gone', 'g1'))
    box.log(log('a', 'a1'))
    box.final('task:complete', { taskId: 'gone' })
    box.forget('gone')
    await vi.advanceTimersByTimeAsync(1000)
    expect(sent.map((s) => s.message.message ?? s.event)).toEqual(['a0', 'a1'])
    box.log(log('a', 'a2'))
    box.log(log('a', 'a3'))
    box.clear()
    await vi.advanceTimersByTimeAsync(1000)
    expect(sent.map((s) => s.message.message ?? s.event)).toEqual(['a0', 'a1', 'a2'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('counts heartbeats and metrics sent beside the queue against the same pace', async () => {
    const { box, sent } = outbox({ burst: 10, perSecond: 10 })
    for (let i = 0; i < 10; i++) box.charge()
    box.log(log('t', 'waits'))
    expect(sent).toHaveLength(0)
    // Ten beside the queue took the burst: the line leaves once a token is back.
    await vi.advanceTimersByTimeAsync(99)
    expect(sent).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(sent.map((s) => s.at)).toEqual([100])
  })

  it('refuses settings that are not positive numbers', () => {
    expect(() => new Outbox(() => {}, { perSecond: 0 })).toThrow(/outgoing.perSecond/)
    expect(() => new Outbox(() => {}, { maxQueued: Number.NaN })).toThrow(/outgoing.maxQueued/)
    // createAgent says so before it opens anything.
    const agent = () =>
      createAgent({
        url: 'http://127.0.0.1:9',
        token: 't',
        id: 'a',
        capabilities: [],
        handler: () => null,
        outgoing: { burst: -1 },
      })
    expect(agent).toThrow(/outgoing.burst must be a positive number, got -1/)
  })
})
