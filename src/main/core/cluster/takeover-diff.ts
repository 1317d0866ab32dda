/**
 * What a new leader tells the cluster instead of a snapshot (cluster-role.ts).
 * Every node holds the same copy of the swarm up to the stream's last event;
 * the new leader rebuilt its own from the history. The difference, as events
 * the shared reducer applies — agents gone, tasks as the history has them,
 * kinds' limits and schedules as stored, alerts of the old leader resolved —
 * brings every copy to the new leader's swarm, so viewers anywhere go on
 * with events and a viewer of the dead node resumes on another by replay.
 *
 * Only when that is exact: the events are applied to a copy and compared with
 * the new leader's snapshot; a difference the events cannot express (a task
 * the history does not hold, such as the demo's) answers null, and the new
 * leader asks every node for a snapshot instead.
 */
import type { Alert } from '../../../shared/domain'
import type { DomainEvent, UnsequencedEvent } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import { Replica } from './replica'

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
const byId = <T>(items: readonly T[], id: (item: T) => string) => new Map(items.map((item) => [id(item), item]))

/** The events that turn `held` into `rebuilt` (both at the same seq), or null when none exactly do. */
export function takeoverEvents(held: Snapshot, rebuilt: Snapshot, now: number): UnsequencedEvent[] | null {
  const events: UnsequencedEvent[] = []
  const agents = byId(rebuilt.agents, (agent) => agent.id)
  for (const agent of held.agents)
    if (!agents.has(agent.id)) events.push({ type: 'agent:removed', at: now, agentId: agent.id })
  const heldAgents = byId(held.agents, (agent) => agent.id)
  for (const agent of rebuilt.agents) {
    if (!same(heldAgents.get(agent.id), agent)) events.push({ type: 'agent:added', at: now, agent })
  }

  const tasks = byId(rebuilt.tasks, (task) => task.id)
  // The reducer has no way to take a task away: one the history does not hold needs a snapshot.
  if (held.tasks.some((task) => !tasks.has(task.id))) return null
  const heldTasks = byId(held.tasks, (task) => task.id)
  for (const task of rebuilt.tasks)
    if (!same(heldTasks.get(task.id), task)) events.push({ type: 'task:added', at: now, task })

  const kinds = byId(rebuilt.kinds ?? [], (kind) => kind.kind)
  for (const kind of held.kinds ?? []) {
    if (kinds.has(kind.kind)) continue
    // Back at the defaults: the reducer lets it go.
    events.push({
      type: 'kind:limits',
      at: now,
      kind: kind.kind,
      paused: false,
      maxRunning: null,
      maxPerMinute: null,
      rateHeldUntil: null,
    })
  }
  const heldKinds = byId(held.kinds ?? [], (kind) => kind.kind)
  for (const kind of rebuilt.kinds ?? [])
    if (!same(heldKinds.get(kind.kind), kind)) events.push({ type: 'kind:limits', at: now, ...kind })

  const schedules = byId(rebuilt.schedules ?? [], (schedule) => schedule.id)
  for (const schedule of held.schedules ?? []) {
    if (!schedules.has(schedule.id)) events.push({ type: 'schedule:removed', at: now, scheduleId: schedule.id })
  }
  const heldSchedules = byId(held.schedules ?? [], (schedule) => schedule.id)
  for (const schedule of rebuilt.schedules ?? []) {
    if (!same(heldSchedules.get(schedule.id), schedule)) events.push({ type: 'schedule', at: now, schedule })
  }

  // The old leader's alerts: nobody holds their conditions now (the new leader raises its own); the new one's as
  // they are.
  const alerts = byId(rebuilt.alerts, (alert) => alert.id)
  for (const alert of held.alerts) {
    if (isOpen(alert) && !alerts.has(alert.id))
      events.push({ type: 'alert', at: now, alert: { ...alert, resolvedAt: now } })
  }
  const heldAlerts = byId(held.alerts, (alert) => alert.id)
  for (const alert of rebuilt.alerts)
    if (!same(heldAlerts.get(alert.id), alert)) events.push({ type: 'alert', at: now, alert })

  return reaches(held, events, rebuilt) ? events : null
}

function isOpen(alert: Alert): boolean {
  return alert.resolvedAt === null || alert.resolvedAt === undefined
}

/** Whether the events, applied to `held` as the followers will, give `rebuilt` (metrics and resolved alerts aside). */
function reaches(held: Snapshot, events: readonly UnsequencedEvent[], rebuilt: Snapshot): boolean {
  const copy = new Replica()
  copy.reset(held)
  copy.apply(events.map((event, i) => ({ ...event, seq: held.seq + i + 1 }) as DomainEvent))
  return same(comparable(copy.snapshot()), comparable(rebuilt))
}

function comparable(snapshot: Snapshot): unknown {
  const sorted = <T>(items: readonly T[] | undefined, id: (item: T) => string) =>
    [...(items ?? [])].sort((a, b) => id(a).localeCompare(id(b)))
  return {
    agents: sorted(snapshot.agents, (agent) => agent.id),
    tasks: sorted(snapshot.tasks, (task) => task.id),
    kinds: sorted(snapshot.kinds, (kind) => kind.kind),
    schedules: sorted(snapshot.schedules, (schedule) => schedule.id),
    alerts: sorted(snapshot.alerts.filter(isOpen), (alert) => alert.id),
  }
}
