/**
 * What operators set, as viewers hold it: per-kind limits and schedules come
 * whole (`kind:limits`, `schedule`), are upserts, leave when back at the
 * defaults or removed, are replaced by a snapshot, and the observer hears
 * each. The kind's hold is judged on a viewer by the server's rule
 * (`holdOf`), the rate's until the time its event gave; the limiter tells a
 * rate's hold with the dispatch that fills the window.
 */
import { describe, expect, it } from 'vitest'
import { KindLimiter } from '../../../src/main/core/coordinator/kind-limits'
import type { DomainEvent } from '../../../src/shared/events'
import { holdOf, NO_KIND_LIMITS, type KindState } from '../../../src/shared/kinds'
import { applyEvents, applySnapshot, createSwarmState, type SwarmObserver } from '../../../src/shared/reducer'
import { summarizeSchedule, type Schedule } from '../../../src/shared/schedules'
import { T0, snapshot } from '../../helpers/factories'

const kind = (name: string, fields: Partial<KindState> = {}): KindState => ({
  kind: name,
  ...NO_KIND_LIMITS,
  rateHeldUntil: null,
  ...fields,
})

const schedule = (id: string, fields: Partial<Schedule> = {}) =>
  summarizeSchedule({
    id,
    name: id,
    cron: '0 2 * * *',
    timezone: 'UTC',
    overlap: 'skip',
    target: 'task',
    task: { name: 'nightly', kind: 'shell', payload: { command: 'true' } },
    workflow: null,
    paused: false,
    createdBy: 'operator',
    createdAt: T0,
    nextRunAt: T0 + 1000,
    nextRuns: [T0 + 1000],
    lastRun: null,
    pending: null,
    ...fields,
  } as Schedule)

describe('kinds and schedules in the reducer', () => {
  it('upserts a kind, drops one back at its defaults, and tells the observer', () => {
    const state = createSwarmState()
    applySnapshot(state, snapshot(1))
    const heard: [string, KindState | undefined][] = []
    const observer: SwarmObserver = { kindChanged: (name, held) => heard.push([name, held]) }
    applyEvents(
      state,
      [
        { seq: 2, type: 'kind:limits', at: T0, ...kind('build', { paused: true }) },
        { seq: 3, type: 'kind:limits', at: T0, ...kind('build', { maxRunning: 2 }) },
        { seq: 4, type: 'kind:limits', at: T0, ...kind('deploy', { maxPerMinute: 5 }) },
        { seq: 5, type: 'kind:limits', at: T0, ...kind('deploy') },
      ],
      observer,
    )
    expect([...state.kinds.values()]).toEqual([kind('build', { maxRunning: 2 })])
    expect(heard.map(([name, held]) => [name, held?.paused ?? null])).toEqual([
      ['build', true],
      ['build', false],
      ['deploy', false],
      ['deploy', null],
    ])
  })

  it('upserts and removes schedules, the snapshot replacing them all', () => {
    const state = createSwarmState()
    applySnapshot(state, snapshot(1, { schedules: [schedule('s-1'), schedule('s-2')] }))
    const heard: string[] = []
    const events: DomainEvent[] = [
      { seq: 2, type: 'schedule', at: T0, schedule: schedule('s-1', { paused: true, nextRunAt: null }) },
      { seq: 3, type: 'schedule:removed', at: T0, scheduleId: 's-2' },
      { seq: 4, type: 'schedule', at: T0, schedule: schedule('s-3') },
    ]
    applyEvents(state, events, { scheduleChanged: (id, held) => heard.push(`${id}:${held ? 'held' : 'gone'}`) })
    expect(state.schedules.get('s-1')).toMatchObject({ paused: true, nextRunAt: null })
    expect([...state.schedules.keys()]).toEqual(['s-1', 's-3'])
    expect(heard).toEqual(['s-1:held', 's-2:gone', 's-3:held'])
    // What a run submits is not held: the summary leaves it out.
    expect(state.schedules.get('s-3')).not.toHaveProperty('task')

    applySnapshot(state, snapshot(9, { kinds: [kind('x', { paused: true })], schedules: [] }))
    expect(state.schedules.size).toBe(0)
    expect([...state.kinds.keys()]).toEqual(['x'])
    // A snapshot from a server older than them has neither: none held.
    const old = snapshot(10) as Partial<ReturnType<typeof snapshot>>
    delete old.kinds
    delete old.schedules
    applySnapshot(state, old as ReturnType<typeof snapshot>)
    expect(state.kinds.size).toBe(0)
  })
})

describe('holdOf: what holds a kind, on a viewer', () => {
  it('paused first, then the running limit, then the rate until its window ends', () => {
    expect(holdOf(undefined, 5, T0)).toBeNull()
    expect(holdOf(kind('b', { paused: true, maxRunning: 1 }), 5, T0)).toEqual({ limit: 'paused' })
    expect(holdOf(kind('b', { maxRunning: 2 }), 1, T0)).toBeNull()
    expect(holdOf(kind('b', { maxRunning: 2 }), 2, T0)).toEqual({ limit: 'maxRunning', maxRunning: 2 })
    const rated = kind('b', { maxPerMinute: 3, rateHeldUntil: T0 + 10 })
    expect(holdOf(rated, 0, T0)).toEqual({ limit: 'maxPerMinute', maxPerMinute: 3, untilMs: T0 + 10 })
    expect(holdOf(rated, 0, T0 + 10)).toBeNull()
  })

  it('is told by the limiter when limits are set and when a dispatch fills the rate window', () => {
    let now = T0
    const told: KindState[] = []
    const limiter = new KindLimiter({
      now: () => now,
      running: () => new Map(),
      schedule: () => {},
      changed: (state) => told.push(state),
    })
    limiter.set('build', { ...NO_KIND_LIMITS, maxPerMinute: 2 })
    expect(told).toEqual([kind('build', { maxPerMinute: 2 })])
    limiter.dispatched('build')
    expect(told).toHaveLength(1)
    now += 1000
    limiter.dispatched('build')
    expect(told[1]).toEqual(kind('build', { maxPerMinute: 2, rateHeldUntil: T0 + 60_000 }))
    // What the viewer then says matches the server's own hold.
    expect(holdOf(told[1], 0, now)).toEqual(limiter.hold('build'))
    limiter.set('build', NO_KIND_LIMITS)
    expect(told[2]).toEqual(kind('build'))
  })
})
