/**
 * A copy of the swarm kept current from a `DashboardClient`: for Node
 * programs (scripts, tests, an SDK user's watcher) that want the state, not
 * the events. It is the shared reducer (`../reducer.ts`) fed by the client,
 * nothing more; the renderer's swarm store feeds the same reducer itself, on
 * animation frames.
 */
import { applyEvents, applySnapshot, createSwarmState, type SwarmLimits, type SwarmState } from '../reducer'
import type { DashboardClient } from './dashboard-client'

export interface Replica {
  /** Read it freely; only the client's snapshots and events change it. */
  readonly state: SwarmState
  /** Stops following the client (the state stays as it was). */
  stop(): void
}

export function replicate(client: Pick<DashboardClient, 'on'>, limits: Partial<SwarmLimits> = {}): Replica {
  const state = createSwarmState(limits)
  const unsubscribe = [
    client.on('snapshot', (snapshot) => applySnapshot(state, snapshot)),
    client.on('events', (events) => applyEvents(state, events)),
  ]
  return {
    state,
    stop: () => {
      for (const off of unsubscribe) off()
    },
  }
}
