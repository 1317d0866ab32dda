import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DomainEvent, UnsequencedEvent } from '../../../src/shared/events'
import type { Task } from '../../../src/shared/domain'
import { EventLog } from '../../../src/main/core/pipeline/event-log'
import { Broadcaster, isImmediate } from '../../../src/main/core/pipeline/broadcaster'

const logEvent = (message: string): UnsequencedEvent => ({
  type: 'task:log',
  at: 0,
  taskId: 't',
  agentId: null,
  level: 'info',
  message,
})
const taskEvent = (status: Task['status']) =>
  ({ seq: 1, type: 'task:status', at: 0, task: { id: 't', status } as Task }) as DomainEvent

describe('EventLog', () => {
  it('numbers events 1, 2, 3 … and tells listeners', () => {
    const log = new EventLog(10)
    const seen: number[] = []
    log.subscribe((event) => seen.push(event.seq))
    for (let i = 0; i < 3; i++) log.append(logEvent(`m${i}`))
    expect(seen).toEqual([1, 2, 3])
    expect(log.seq).toBe(3)
  })

  it('replays the gap after a seq while it is in the buffer, and says null once it is not', () => {
    const log = new EventLog(5)
    for (let i = 0; i < 8; i++) log.append(logEvent(`m${i}`))
    expect(log.since(5)?.map((event) => event.seq)).toEqual([6, 7, 8])
    expect(log.since(3)?.map((event) => event.seq)).toEqual([4, 5, 6, 7, 8])
    expect(log.since(8)).toEqual([])
    expect(log.since(2)).toBeNull()
    expect(log.since(9)).toBeNull()
  })
})

describe('Broadcaster', () => {
  let sent: DomainEvent[][]
  let broadcaster: Broadcaster
  const log = new EventLog()

  beforeEach(() => {
    vi.useFakeTimers()
    sent = []
    broadcaster = new Broadcaster({ windowMs: 200, maxBatch: 3, send: (events) => sent.push(events) })
  })
  afterEach(() => vi.useRealTimers())

  it('holds events for the window, then sends them as one batch in seq order', () => {
    broadcaster.push(log.append(logEvent('a')))
    broadcaster.push(log.append(logEvent('b')))
    vi.advanceTimersByTime(199)
    expect(sent).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.map((event) => event.seq)).toEqual([...sent[0]!.map((event) => event.seq)].sort((a, b) => a - b))
  })

  it('sends a full batch at once', () => {
    for (const message of ['a', 'b', 'c']) broadcaster.push(log.append(logEvent(message)))
    expect(sent).toHaveLength(1)
    expect(sent[0]).toHaveLength(3)
  })

  it('flushes task completion and failure at once, with what was pending before it', () => {
    broadcaster.push(log.append(logEvent('a')))
    broadcaster.push(taskEvent('failed'))
    expect(sent).toHaveLength(1)
    expect(sent[0]).toHaveLength(2)
  })

  it('knows which events are immediate', () => {
    expect(isImmediate(taskEvent('succeeded'))).toBe(true)
    expect(isImmediate(taskEvent('timed_out'))).toBe(true)
    expect(isImmediate(taskEvent('running'))).toBe(false)
    expect(
      isImmediate({ seq: 1, type: 'task:log', at: 0, taskId: 't', agentId: null, level: 'error', message: 'x' }),
    ).toBe(true)
  })
})
