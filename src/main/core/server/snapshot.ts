import type { Snapshot } from '../../../shared/protocol'
import type { Coordinator } from '../coordinator/coordinator'
import type { MetricsSampler } from '../metrics/sampler'
import type { EventLog } from '../pipeline/event-log'
import type { TaskStore } from '../storage/task-store'

export interface SwarmState {
  coordinator: Coordinator
  sampler: MetricsSampler
  log: EventLog
  store: TaskStore
}

/** The whole visible state, consistent with `seq`: every event up to it is included, none after. */
export function buildSnapshot({
  coordinator,
  sampler,
  log,
}: Pick<SwarmState, 'coordinator' | 'sampler' | 'log'>): Snapshot {
  return {
    seq: log.seq,
    agents: coordinator.listAgents(),
    tasks: coordinator.snapshotTasks(),
    metrics: sampler.state(),
    alerts: [],
  }
}
