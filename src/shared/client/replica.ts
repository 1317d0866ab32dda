/**
 * A viewer's copy of the swarm: a snapshot with later events applied in seq
 * order. Pure and DOM-free, so the renderer, the SDK and the tests all hold
 * state the same way. An event at or below the last applied seq is never
 * applied again (it is counted in `duplicates`, which should stay 0).
 */
import type { Agent, Alert, MetricsSample, Task } from '../domain'
import type { DomainEvent } from '../events'
import type { Snapshot } from '../protocol'

export interface ReplicaOptions {
  /** Metrics samples kept, oldest dropped first. */
  maxSamples?: number
}

export class SwarmReplica {
  readonly agents = new Map<string, Agent>()
  readonly tasks = new Map<string, Task>()
  readonly alerts = new Map<string, Alert>()
  samples: MetricsSample[] = []
  /** Seq of the last event applied (or of the snapshot); -1 before the first snapshot. */
  seq = -1
  /** Events received again after they were applied: a delivery bug if ever above 0. */
  duplicates = 0
  private readonly maxSamples: number

  constructor(options: ReplicaOptions = {}) {
    this.maxSamples = options.maxSamples ?? 3600
  }

  get ready(): boolean {
    return this.seq >= 0
  }

  applySnapshot(snapshot: Snapshot): void {
    this.agents.clear()
    this.tasks.clear()
    this.alerts.clear()
    for (const agent of snapshot.agents) this.agents.set(agent.id, agent)
    for (const task of snapshot.tasks) this.tasks.set(task.id, task)
    for (const alert of snapshot.alerts) this.alerts.set(alert.id, alert)
    this.samples = snapshot.metrics.history.slice(-this.maxSamples)
    this.seq = snapshot.seq
  }

  /** Applies events in order; returns how many were new. */
  applyEvents(events: readonly DomainEvent[]): number {
    let applied = 0
    for (const event of events) {
      if (event.seq <= this.seq) {
        this.duplicates++
        continue
      }
      this.apply(event)
      this.seq = event.seq
      applied++
    }
    return applied
  }

  private apply(event: DomainEvent): void {
    switch (event.type) {
      case 'agent:status':
        this.agents.set(event.agent.id, event.agent)
        break
      case 'agent:removed':
        this.agents.delete(event.agentId)
        break
      case 'task:status':
        this.tasks.set(event.task.id, event.task)
        break
      case 'metrics':
        this.samples.push(event.sample)
        if (this.samples.length > this.maxSamples) this.samples.splice(0, this.samples.length - this.maxSamples)
        break
      case 'alert':
        this.alerts.set(event.alert.id, event.alert)
        break
      case 'task:log':
        break
    }
  }
}
