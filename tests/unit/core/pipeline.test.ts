import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Agent, Task } from '../../../src/shared/domain'
import type { DomainEvent, EventOf, UnsequencedEvent } from '../../../src/shared/events'
import { EventLog } from '../../../src/main/core/pipeline/event-log'
import { Batcher, isImmediate } from '../../../src/main/core/pipeline/batcher'
import { Slimmer } from '../../../src/main/core/pipeline/slim'
import { applyEvents, applySnapshot, createSwarmState } from '../../../src/shared/reducer'
import { EVERYTHING, matches, subscription, subscriptionKey } from '../../../src/main/core/pipeline/subscription'
import { isTerminal } from '../../../src/shared/statuses'
import { agent, task } from '../../helpers/factories'
import { SwarmModel, type ModelStep } from '../../helpers/swarm-model'

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
  agentId: id,
  status,
})
const taskEvent = (id: string, status: Task['status'], progress?: number): UnsequencedEvent => ({
  type: 'task:status',
  at: 0,
  taskId: id,
  status,
  agentId: 'a1',
  attempts: 1,
  ...(progress !== undefined ? { progress } : {}),
})
const progressEvent = (id: string, progress: number): UnsequencedEvent => ({
  type: 'task:progress',
  at: 0,
  taskId: id,
  progress,
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

  it('goes on from a seq numbered elsewhere (a cluster follower), refusing one that does not follow', () => {
    const log = new EventLog(10)
    const seen: number[] = []
    log.subscribe((event) => seen.push(event.seq))
    log.append(logEvent('mine'))
    log.resetTo(41)
    // Nothing from before the reset can be replayed: a viewer resuming from there gets a snapshot.
    expect(log.since(0)).toBeNull()
    expect(log.since(41)).toEqual([])
    log.appendSequenced({ ...logEvent('copied'), seq: 42 })
    expect(() => log.appendSequenced({ ...logEvent('gap'), seq: 44 })).toThrow(/44 does not follow 42/)
    expect(() => log.appendSequenced({ ...logEvent('repeat'), seq: 42 })).toThrow(/does not follow/)
    expect(log.append(logEvent('next')).seq).toBe(43)
    expect(log.since(41)?.map((event) => event.seq)).toEqual([42, 43])
    expect(seen).toEqual([1, 42, 43])
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

  it('merges the updates of one agent within a window into one, at the place and seq of the last', () => {
    push(agentEvent('a1', 'busy'))
    push(agentEvent('a2', 'busy'))
    push(agentEvent('a1', 'idle'))
    push({ type: 'agent:status', at: 0, agentId: 'a1', lastHeartbeat: 5, resources: { cpu: 1 } })
    push({ type: 'agent:status', at: 0, agentId: 'a1', status: 'busy', resources: { memoryMb: 2 } })
    vi.advanceTimersByTime(200)
    expect(sent).toHaveLength(1)
    expect(sent[0]).toEqual([
      { seq: 2, type: 'agent:status', at: 0, agentId: 'a2', status: 'busy' },
      {
        seq: 5,
        type: 'agent:status',
        at: 0,
        agentId: 'a1',
        status: 'busy',
        lastHeartbeat: 5,
        resources: { cpu: 1, memoryMb: 2 },
      },
    ])
    expect(coalesced).toBe(3)
  })

  it('keeps a task created and assigned in one window whole, with its static fields', () => {
    const created = task('t1', 'queued', 100)
    push({ type: 'task:added', at: 100, task: created })
    push(taskEvent('t1', 'assigned', 0))
    push({ ...taskEvent('t1', 'running'), startedAt: 103 } as UnsequencedEvent)
    push(progressEvent('t1', 0.5))
    vi.advanceTimersByTime(200)
    expect(sent[0]).toEqual([
      {
        seq: 4,
        type: 'task:added',
        at: 0,
        task: {
          ...created,
          status: 'running',
          agentId: 'a1',
          attempts: 1,
          startedAt: 103,
          progress: 0.5,
          updatedAt: 0,
        },
      },
    ])
  })

  it('never merges a terminal task event away: earlier updates merge into it, later ones do not', async () => {
    push(progressEvent('t1', 0.1))
    push({ ...taskEvent('t1', 'running', 0.2), startedAt: 7 } as UnsequencedEvent)
    push(progressEvent('t1', 0.5))
    push({ ...taskEvent('t1', 'failed'), finishedAt: 9, error: 'boom' } as UnsequencedEvent)
    // A retry after the end starts afresh: whole again (the viewer may have let the task go).
    push({ type: 'task:added', at: 10, task: task('t1', 'queued') })
    push(taskEvent('t1', 'assigned'))
    await Promise.resolve()
    expect(sent).toHaveLength(1)
    const batch = sent[0]!
    expect(batch.map((event) => [event.seq, event.type])).toEqual([
      [4, 'task:status'],
      [6, 'task:added'],
    ])
    expect(batch[0]).toMatchObject({ status: 'failed', progress: 0.5, startedAt: 7, finishedAt: 9, error: 'boom' })
    expect((batch[1] as EventOf<'task:added'>).task).toMatchObject({ status: 'assigned', name: 'task-t1' })
  })

  it('does not merge across an agent removal', () => {
    push(agentEvent('a1', 'busy'))
    push({ type: 'agent:removed', at: 0, agentId: 'a1' })
    push({ type: 'agent:added', at: 0, agent: agent('a1') })
    push(agentEvent('a1', 'paused'))
    vi.advanceTimersByTime(200)
    expect(sent[0]!.map((event) => [event.seq, event.type])).toEqual([
      [1, 'agent:status'],
      [2, 'agent:removed'],
      [4, 'agent:added'],
    ])
    expect((sent[0]![2] as EventOf<'agent:added'>).agent.status).toBe('paused')
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
    expect(isImmediate(sequenced(progressEvent('t', 1)))).toBe(false)
    expect(isImmediate(sequenced({ type: 'task:added', at: 0, task: task('t', 'failed') }))).toBe(true)
    expect(isImmediate(sequenced({ type: 'task:added', at: 0, task: task('t', 'queued') }))).toBe(false)
    expect(isImmediate(sequenced({ ...logEvent('x'), level: 'error' } as UnsequencedEvent))).toBe(true)
    expect(isImmediate(sequenced(agentEvent('a', 'error')))).toBe(true)
    expect(isImmediate(sequenced({ type: 'agent:status', at: 0, agentId: 'a', lastHeartbeat: 1 }))).toBe(false)
    expect(isImmediate(sequenced({ type: 'agent:added', at: 0, agent: agent('a', { status: 'error' }) }))).toBe(true)
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
    expect(matches(sub, log.append({ type: 'agent:added', at: 0, agent: agent('a1') }))).toBe(true)
    expect(matches(sub, log.append({ type: 'agent:added', at: 0, agent: agent('a2') }))).toBe(false)
    expect(matches(sub, log.append(logEvent('x', 'a1')))).toBe(true)
    expect(matches(sub, log.append(logEvent('x', 'a2')))).toBe(false)
    expect(matches(sub, log.append(taskEvent('t', 'running')))).toBe(true)
    expect(matches(sub, log.append(progressEvent('t', 0.5)))).toBe(true)
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

describe('slim events, batched, converge (property)', () => {
  it('viewers fed every event, batches, or a snapshot then batches end equal to the swarm, holding nothing unknown', async () => {
    const entity = (kind: 'agent' | 'task' | 'kind' | 'schedule', count: number) =>
      fc.record({
        kind: fc.constant(kind),
        index: fc.integer({ min: 0, max: count - 1 }),
        what: fc.nat(20),
        value: fc.nat(1000),
      })
    const change: fc.Arbitrary<ModelStep> = fc.oneof(
      { arbitrary: entity('agent', 4), weight: 3 },
      { arbitrary: entity('task', 8), weight: 6 },
      { arbitrary: fc.constant({ kind: 'log' as const }), weight: 1 },
      { arbitrary: fc.constant({ kind: 'metrics' as const }), weight: 1 },
      // What operators set: whole states, merged in a batch to the latest, a removal closing a schedule's.
      { arbitrary: entity('kind', 3), weight: 1 },
      { arbitrary: entity('schedule', 4), weight: 1 },
    )
    const step = fc.record({ change, wait: fc.integer({ min: 0, max: 300 }) })
    // Two finished tasks kept: tasks leave a viewer's bounded list and come back whole when retried.
    const limits = { finishedTasks: 2 }
    const runs = { total: 0, events: 0, late: 0 }
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 150, size: 'large' }), fc.nat(), async (steps, join) => {
        vi.useFakeTimers()
        const model = new SwarmModel()
        const slim = new Slimmer()
        const log = new EventLog(1000)
        const empty = {
          seq: 0,
          agents: [],
          tasks: [],
          alerts: [],
          metrics: { current: {} as never, history: [] },
          kinds: [],
          schedules: [],
        }
        const direct = createSwarmState(limits)
        const batched = createSwarmState(limits)
        const late = createSwarmState(limits)
        applySnapshot(direct, empty)
        applySnapshot(batched, empty)
        const batcher = new Batcher({
          maxBatch: 7,
          send: (events) => {
            applyEvents(batched, events)
            if (late.hasSnapshot) applyEvents(late, events)
          },
        })
        const joinAt = join % (steps.length + 1)
        for (const [i, { change, wait }] of steps.entries()) {
          if (i === joinAt) {
            // A viewer that starts from a snapshot, as the fanout gives one: the batcher flushed first.
            batcher.flush()
            applySnapshot(late, {
              ...empty,
              seq: log.seq,
              agents: [...model.agents.values()],
              tasks: [...model.summaries(Infinity).values()],
              kinds: [...model.kinds.values()],
              schedules: [...model.scheduleSummaries().values()],
            })
          }
          const announced = model.step(change)
          const event = announced && slim.project(announced)
          if (event) {
            const sequenced = log.append(event)
            applyEvents(direct, [sequenced])
            batcher.push(sequenced)
          }
          await vi.advanceTimersByTimeAsync(wait)
        }
        await vi.advanceTimersByTimeAsync(1000)
        vi.useRealTimers()
        runs.total++
        runs.events += log.seq
        if (late.hasSnapshot) runs.late++
        const truth = model.summaries(limits.finishedTasks)
        for (const viewer of [direct, batched, ...(late.hasSnapshot ? [late] : [])]) {
          expect(viewer.duplicates).toBe(0)
          expect(viewer.unknown).toBe(0)
          expect(new Map(viewer.agents)).toEqual(model.agents)
          expect(new Map(viewer.kinds)).toEqual(model.kinds)
          expect(new Map(viewer.schedules)).toEqual(model.scheduleSummaries())
        }
        expect(new Map(direct.tasks)).toEqual(truth)
        expect(new Map(batched.tasks)).toEqual(truth)
        if (late.hasSnapshot) {
          // It started from the latest finished tasks at its snapshot, so its bounded list may hold others than
          // a viewer there from the start; every task it holds is as it is, and every active one is held.
          const all = model.summaries(Infinity)
          for (const [id, held] of late.tasks) expect(held).toEqual(all.get(id))
          for (const [id, task] of truth) if (!isTerminal(task.status)) expect(late.tasks.get(id)).toEqual(task)
        }
        expect(batched.log.lines).toEqual(direct.log.lines)
        expect(batched.metrics).toHaveLength(direct.metrics.length)
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
    )
    // The runs were long enough to mean something: most had a late viewer, and thousands of events in all.
    expect(runs.late).toBeGreaterThan(runs.total / 2)
    expect(runs.events).toBeGreaterThan(runs.total * 20)
  })
})
