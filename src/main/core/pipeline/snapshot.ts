import { summarize } from '../../../shared/changes'
import { summarizeSchedule, type Schedule } from '../../../shared/schedules'
import type { Snapshot } from '../../../shared/protocol'
import type { AlertBook } from '../alerts/engine'
import type { Coordinator } from '../coordinator/coordinator'
import type { MetricsSampler } from '../metrics/sampler'
import type { EventLog } from './event-log'
import type { TaskHistory } from '../storage/history'

export interface SwarmState {
  coordinator: Coordinator
  sampler: MetricsSampler
  log: EventLog
  history: TaskHistory
  /** The alerts engine; absent: no alerts. */
  alerts?: AlertBook
  /** The schedules, once the server has them (core.ts); absent: none. */
  schedules?: { list(): Schedule[] }
}

/**
 * The whole visible state, consistent with `seq`: every event up to it is included, none after. Tasks as
 * summaries (no payload, no result: `GET /api/tasks/:id` serves those), so its size follows the number of
 * tasks, not what they carry; every active one is in it, which the slim events rely on (slim.ts). Kinds and
 * schedules are bounded by the server (1,000 kinds with limits, 200 schedules) and go without what a schedule's
 * runs submit.
 */
/** Finished tasks a snapshot carries besides every active one. */
export const SNAPSHOT_FINISHED_TASKS = 500
/** A snapshot's metrics: the last 5 min at full resolution, the rest of the hour one sample per 30 s. */
export const SNAPSHOT_RECENT_SAMPLES = 300
export const SNAPSHOT_OLDER_EVERY_MS = 30_000

export function buildSnapshot({
  coordinator,
  sampler,
  log,
  alerts,
  schedules,
}: Pick<SwarmState, 'coordinator' | 'sampler' | 'log' | 'alerts' | 'schedules'>): Snapshot {
  return {
    seq: log.seq,
    agents: coordinator.listAgents(),
    tasks: coordinator.snapshotTasks(SNAPSHOT_FINISHED_TASKS).map(summarize),
    metrics: sampler.state(SNAPSHOT_RECENT_SAMPLES, SNAPSHOT_OLDER_EVERY_MS),
    alerts: alerts?.list() ?? [],
    kinds: coordinator.kindStates(),
    schedules: (schedules?.list() ?? []).map(summarizeSchedule),
  }
}
