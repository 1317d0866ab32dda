/**
 * A follower's copy of the swarm, held by the one shared reducer from the
 * leader's snapshot and events (cluster/stream-reader.ts), and the snapshot
 * it gives its own viewers and `/api/snapshot`: the same shape and bounds as
 * the leader's (pipeline/snapshot.ts), so a viewer cannot tell which node
 * answered.
 */
import { AGENT_STATUSES, type MetricsSample } from '../../../shared/domain'
import type { DomainEvent } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import { applyEvent, applySnapshot, createSwarmState, type SwarmState } from '../../../shared/reducer'
import { metricsState } from '../metrics/sampler'
import { SNAPSHOT_FINISHED_TASKS, SNAPSHOT_OLDER_EVERY_MS, SNAPSHOT_RECENT_SAMPLES } from '../pipeline/snapshot'

export class Replica {
  private state: SwarmState = Replica.empty()

  /** No log lines (viewers take them from the events, history from the database); an hour of samples. */
  private static empty(): SwarmState {
    return createSwarmState({
      finishedTasks: SNAPSHOT_FINISHED_TASKS,
      swarmLogLines: 0,
      logLinesPerTask: 0,
      logTails: 0,
    })
  }

  get seq(): number {
    return this.state.seq
  }

  /** Whether a snapshot has come yet: before it the follower has nothing to show. */
  get ready(): boolean {
    return this.state.hasSnapshot
  }

  reset(snapshot: Snapshot): void {
    this.state = Replica.empty()
    applySnapshot(this.state, snapshot)
  }

  /** Applies events that follow what is held (the reader checked their order). */
  apply(events: readonly DomainEvent[]): void {
    for (const event of events) applyEvent(this.state, event)
  }

  snapshot(): Snapshot {
    const { state } = this
    const samples = state.metrics
    const current = samples.at(-1)
    return {
      seq: state.seq,
      agents: [...state.agents.values()],
      tasks: [...state.tasks.values()],
      metrics: current
        ? metricsState(samples, current, SNAPSHOT_RECENT_SAMPLES, SNAPSHOT_OLDER_EVERY_MS)
        : { current: emptySample(), history: [] },
      alerts: [...state.alerts.values()],
      kinds: [...state.kinds.values()],
      schedules: [...state.schedules.values()],
    }
  }
}

/** What a follower shows before the leader's first sample: nothing counted yet. */
function emptySample(): MetricsSample {
  const agents = Object.fromEntries(AGENT_STATUSES.map((status) => [status, 0])) as MetricsSample['agents']
  return { at: 0, agents, queued: 0, running: 0, succeeded: 0, failed: 0, throughput: 0 }
}
