import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Agent, Task } from '../../../src/shared/domain'
import type { DomainEvent, UnsequencedEvent } from '../../../src/shared/events'
import { EventLog } from '../../../src/main/core/pipeline/event-log'
import { Batcher, isImmediate } from '../../../src/main/core/pipeline/batcher'
import { EVERYTHING, matches, subscription, subscriptionKey } from '../../../src/main/core/pipeline/subscription'

const logEvent = (message: string, agentId: string | null = null): UnsequencedEvent => ({
  type: 'task:log',
  at: 0,
  taskId: 't',
  agentId,
  level: 'info',
  message,
})
const agentEvent = (id: string, status: Agent['status']): UnsequencedEvent => ({
  type: 'agent:status',
  at: 0,
  agent: { id, status } as Agent,
})
const taskEvent = (id: string, status: Task['status'], progress = 0): UnsequencedEvent => ({
  type: 'task:status',
  at: 0,
  task: { id, status, progress, agentId: 'a1' } as Task,
})
const metricsEvent = (): UnsequencedEvent => ({ type: 'metrics', at: 0, sample: {} as never })

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

  it('keeps what its events hold within maxBytes: big log lines push the oldest out early', () => {
    const log = new EventLog(1000, 100_000)
    for (let i = 0; i < 50; i++) log.append(logEvent('x'.repeat(16_384)))
    // About 16.5 KB each: six fit in 100,000 bytes.
    expect(log.since(44)?.map((event) => event.seq)).toEqual([45, 46, 47, 48, 49, 50])
    expect(log.since(43)).toBeNull()
    for (let i = 0; i < 200; i++) log.append(logEvent('small'))
    expect(log.since(50)).toHaveLength(200)
  })

  it('answers null when the replay would encode to more than the bytes asked for', () => {
    const log = new EventLog(1000)
    for (let i = 0; i < 20; i++) log.append(logEvent('y'.repeat(1000)))
    expect(log.since(0, 100_000)).toHaveLength(20)
    expect(log.since(0, 10_000)).toBeNull()
    expect(log.since(15, 10_000)?.map((event) => event.seq)).toEqual([16, 17, 18, 19, 20])
  })
})

describe('Batcher', () => {
  let sent: DomainEvent[][]
  let coalesced: number
  let batcher: Batcher
  let log: EventLog

  beforeEach(() => {
    vi.useFakeTimers()
    sent = []
    coalesced = 0
    log = new EventLog()
    batcher = new Batcher({ maxBatch: 5, send: (events) => sent.push(events), coalesced: () => coalesced++ })
  })
  afterEach(() => vi.useRealTimers())
  const push = (event: UnsequencedEvent) => batcher.push(log.append(event))

  it('holds an agent status for its 200 ms window', () => {
    push(agentEvent('a1', 'busy'))
    vi.advanceTimersByTime(199)
    expect(sent).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(sent).toHaveLength(1)
  })

  it('holds metrics for 500 ms and logs for 1 s', () => {
    push(metricsEvent())
    vi.advanceTimersByTime(499)
    expect(sent).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(sent).toHaveLength(1)
    push(logEvent('x'))
    vi.advanceTimersByTime(999)
    expect(sent).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(sent).toHaveLength(2)
  })

  it('sends at the earliest window among pending events, everything in seq order', () => {
    push(logEvent('first'))
    vi.advanceTimersByTime(100)
    push(agentEvent('a1', 'busy'))
    vi.advanceTimersByTime(199)
    expect(sent).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.map((event) => event.seq)).toEqual([1, 2])
  })

  it('sends a full batch at once', () => {
    for (let i = 0; i < 5; i++) push(logEvent(`m${i}`))
    expect(sent).toHaveLength(1)
    expect(sent[0]).toHaveLength(5)
  })

  it('flushes task completion and failure at the end of the turn, with what was pending before it', async () => {
    push(logEvent('a'))
    push(taskEvent('t1', 'failed'))
    expect(sent).toHaveLength(0)
    await Promise.resolve()
    expect(sent).toHaveLength(1)
    expect(sent[0]!.map((event) => event.type)).toEqual(['task:log', 'task:status'])
  })

  it('keeps only the latest state of an agent within a window', () => {
    push(agentEvent('a1', 'busy'))
    push(agentEvent('a2', 'busy'))
    push(agentEvent('a1', 'idle'))
    push(agentEvent('a1', 'busy'))
    vi.advanceTimersByTime(200)
    expect(sent).toHaveLength(1)
    const batch = sent[0]! as Extract<DomainEvent, { type: 'agent:status' }>[]
    expect(batch.map((event) => [event.agent.id, event.agent.status, event.seq])).toEqual([
      ['a2', 'busy', 2],
      ['a1', 'busy', 4],
    ])
    expect(coalesced).toBe(2)
  })

  it('coalesces task progress but never drops a terminal task event', async () => {
    push(taskEvent('t1', 'running', 0.1))
    push(taskEvent('t1', 'running', 0.5))
    push(taskEvent('t1', 'succeeded', 1))
    await Promise.resolve()
    expect(sent).toHaveLength(1)
    const batch = sent[0]! as Extract<DomainEvent, { type: 'task:status' }>[]
    expect(batch.map((event) => [event.task.status, event.task.progress])).toEqual([
      ['running', 0.5],
      ['succeeded', 1],
    ])
  })

  it('does not count replaced states toward a full batch', () => {
    for (let i = 0; i < 20; i++) push(agentEvent('a1', i % 2 ? 'idle' : 'busy'))
    expect(sent).toHaveLength(0)
    vi.advanceTimersByTime(200)
    expect(sent[0]).toHaveLength(1)
  })

  it('knows which events are immediate', () => {
    const sequenced = (event: UnsequencedEvent) => ({ ...event, seq: 1 }) as DomainEvent
    expect(isImmediate(sequenced(taskEvent('t', 'succeeded')))).toBe(true)
    expect(isImmediate(sequenced(taskEvent('t', 'timed_out')))).toBe(true)
    expect(isImmediate(sequenced(taskEvent('t', 'running')))).toBe(false)
    expect(isImmediate(sequenced({ ...logEvent('x'), level: 'error' } as UnsequencedEvent))).toBe(true)
    expect(isImmediate(sequenced(agentEvent('a', 'error')))).toBe(true)
    expect(
      isImmediate(sequenced({ type: 'alert', at: 0, alert: { severity: 'critical' } as never } as UnsequencedEvent)),
    ).toBe(true)
  })
})

describe('subscriptions', () => {
  const log = new EventLog()
  it('filters by channel', () => {
    const sub = subscription(['agents'])
    expect(matches(sub, log.append(agentEvent('a1', 'idle')))).toBe(true)
    expect(matches(sub, log.append(logEvent('x')))).toBe(false)
    expect(matches(EVERYTHING, log.append(logEvent('x')))).toBe(true)
  })

  it('narrows agent status and logs to given agents, not tasks or metrics', () => {
    const sub = subscription(['agents', 'logs', 'tasks', 'metrics'], ['a1'])
    expect(matches(sub, log.append(agentEvent('a1', 'idle')))).toBe(true)
    expect(matches(sub, log.append(agentEvent('a2', 'idle')))).toBe(false)
    expect(matches(sub, log.append(logEvent('x', 'a1')))).toBe(true)
    expect(matches(sub, log.append(logEvent('x', 'a2')))).toBe(false)
    expect(matches(sub, log.append(taskEvent('t', 'running')))).toBe(true)
    expect(matches(sub, log.append(metricsEvent()))).toBe(true)
  })

  it('gives equal subscriptions one key, whatever the order', () => {
    expect(subscriptionKey(subscription(['tasks', 'agents'], ['b', 'a']))).toBe(
      subscriptionKey(subscription(['agents', 'tasks'], ['a', 'b'])),
    )
    expect(subscriptionKey(subscription(['agents']))).not.toBe(subscriptionKey(subscription(['agents'], [])))
  })
})

describe('covers', () => {
  it('tells whether a new subscription asks for nothing the old one did not send', async () => {
    const { covers } = await import('../../../src/main/core/pipeline/subscription')
    expect(covers(EVERYTHING, subscription(['agents'], ['a']))).toBe(true)
    expect(covers(subscription(['agents']), subscription(['agents', 'tasks']))).toBe(false)
    expect(covers(subscription(['agents'], ['a']), subscription(['agents'], ['a', 'b']))).toBe(false)
    expect(covers(subscription(['agents'], ['a', 'b']), subscription(['agents'], ['b']))).toBe(true)
    expect(covers(subscription(['agents'], ['a']), subscription(['agents']))).toBe(false)
  })
})

describe('batching never changes the end state (property)', () => {
  it('a viewer fed batches ends equal to one fed every event, for random streams and timings', async () => {
    const fc = (await import('fast-check')).default
    const { applyEvents, applySnapshot, createSwarmState } = await import('../../../src/shared/reducer')
    const event = fc.oneof(
      fc
        .record({ a: fc.integer({ min: 0, max: 4 }), s: fc.constantFrom('idle', 'busy', 'paused', 'error') })
        .map(({ a, s }) => agentEvent(`a${a}`, s as Agent['status'])),
      fc
        .record({
          t: fc.integer({ min: 0, max: 6 }),
          s: fc.constantFrom('queued', 'running', 'succeeded', 'failed'),
          p: fc.double({ min: 0, max: 1, noNaN: true }),
        })
        .map(({ t, s, p }) => taskEvent(`t${t}`, s as Task['status'], p)),
      fc.constant(logEvent('x')),
      fc.constant(metricsEvent()),
    )
    const step = fc.record({ event, wait: fc.integer({ min: 0, max: 300 }) })
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 200 }), async (steps) => {
        vi.useFakeTimers()
        const log = new EventLog(1000)
        const direct = createSwarmState()
        const batched = createSwarmState()
        const empty = { seq: 0, agents: [], tasks: [], alerts: [], metrics: { current: {} as never, history: [] } }
        applySnapshot(direct, empty)
        applySnapshot(batched, empty)
        const batcher = new Batcher({ maxBatch: 7, send: (events) => applyEvents(batched, events) })
        for (const { event, wait } of steps) {
          const sequenced = log.append(event)
          applyEvents(direct, [sequenced])
          batcher.push(sequenced)
          await vi.advanceTimersByTimeAsync(wait)
        }
        await vi.advanceTimersByTimeAsync(1000)
        vi.useRealTimers()
        expect(batched.duplicates).toBe(0)
        // Same contents; insertion order may differ, since coalescing moves an update to its latest place.
        expect(new Map(batched.agents)).toEqual(new Map(direct.agents))
        expect(new Map(batched.tasks)).toEqual(new Map(direct.tasks))
        expect(new Set(batched.finished.keys())).toEqual(new Set(direct.finished.keys()))
        expect(batched.metrics).toHaveLength(direct.metrics.length)
        expect(batched.log.lines).toEqual(direct.log.lines)
      }),
      { numRuns: 300 },
    )
  })
})
