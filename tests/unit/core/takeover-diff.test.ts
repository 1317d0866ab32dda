/**
 * A new leader's takeover told as events (cluster/takeover-diff.ts): the
 * events bring what every node holds to the rebuilt swarm exactly, or there
 * are none and a snapshot is asked for.
 */
import { describe, expect, it } from 'vitest'
import { takeoverEvents } from '../../../src/main/core/cluster/takeover-diff'
import { Replica } from '../../../src/main/core/cluster/replica'
import type { DomainEvent } from '../../../src/shared/events'
import type { Snapshot } from '../../../src/shared/protocol'
import { summarize } from '../../../src/shared/changes'
import { agent, snapshot, T0, task } from '../../helpers/factories'

const NOW = T0 + 60_000
const alert = {
  id: 'a1',
  rule: 'agent-offline',
  severity: 'warning' as const,
  message: 'gone',
  at: T0,
  agentId: 'w1',
  acknowledged: false,
}

function applied(held: Snapshot, events: ReturnType<typeof takeoverEvents>): Snapshot {
  const copy = new Replica()
  copy.reset(held)
  copy.apply((events ?? []).map((event, i) => ({ ...event, seq: held.seq + i + 1 }) as DomainEvent))
  return copy.snapshot()
}

describe('takeoverEvents', () => {
  const held = snapshot(40, {
    agents: [agent('w1'), agent('w2')],
    tasks: [task('t1', 'running', T0, { agentId: 'w1', attempts: 1 }), task('t2', 'succeeded', T0)].map(summarize),
    alerts: [alert],
    kinds: [{ kind: 'build', paused: true, maxRunning: null, maxPerMinute: null, rateHeldUntil: null }],
  })

  it('removes the old leader’s agents, upserts the tasks as the history has them, resolves its alerts', () => {
    const rebuilt = snapshot(40, {
      tasks: [
        task('t1', 'queued', T0, { attempts: 1, requeues: 1, error: 'requeued: waiting for agent w1' }),
        task('t2', 'succeeded', T0),
      ].map(summarize),
      kinds: [{ kind: 'build', paused: true, maxRunning: null, maxPerMinute: null, rateHeldUntil: null }],
    })
    const events = takeoverEvents(held, rebuilt, NOW)
    expect(events?.map((event) => event.type).sort()).toEqual(['agent:removed', 'agent:removed', 'alert', 'task:added'])
    const after = applied(held, events)
    expect(after.agents).toEqual([])
    expect(after.tasks.find((t) => t.id === 't1')).toMatchObject({ status: 'queued', agentId: null, requeues: 1 })
    expect(after.alerts).toEqual([{ ...alert, resolvedAt: NOW }])
  })

  it('lets a kind go back to its defaults, and leaves an alert the new leader holds too as it is', () => {
    const rebuilt = snapshot(40, { tasks: held.tasks, agents: held.agents, alerts: [alert] })
    const events = takeoverEvents({ ...held, schedules: [] }, rebuilt, NOW)
    expect(events).toEqual([
      {
        type: 'kind:limits',
        at: NOW,
        kind: 'build',
        paused: false,
        maxRunning: null,
        maxPerMinute: null,
        rateHeldUntil: null,
      },
    ])
    expect(applied(held, events).kinds).toEqual([])
  })

  it('answers null when the history lacks a task the nodes hold (the reducer cannot take one away)', () => {
    const rebuilt = snapshot(40, { tasks: [summarize(task('t2', 'succeeded', T0))] })
    expect(takeoverEvents(held, rebuilt, NOW)).toBeNull()
  })

  it('answers no events for a takeover that changed nothing', () => {
    const quiet = snapshot(7, { tasks: held.tasks })
    expect(takeoverEvents(quiet, quiet, NOW)).toEqual([])
  })
})
