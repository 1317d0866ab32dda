/**
 * A short history of each agent's resource figures (cpu, memory), taken from
 * the heartbeats in its status events, for the agent detail's sparkline.
 */
import type { Agent } from '../../../shared/domain'

export interface ResourcePoint {
  at: number
  cpu: number | null
  memoryMb: number | null
}

export class ResourceHistory {
  private readonly points = new Map<string, ResourcePoint[]>()

  constructor(private readonly perAgent: number) {}

  /** Records the agent's figures if its heartbeat is newer than the last point; true if it did. */
  record(agent: Agent): boolean {
    const resources = agent.resources
    if (!resources || (resources.cpu === undefined && resources.memoryMb === undefined)) return false
    let series = this.points.get(agent.id)
    if (!series) {
      series = []
      this.points.set(agent.id, series)
    }
    const last = series[series.length - 1]
    if (last && agent.lastHeartbeat <= last.at) return false
    series.push({ at: agent.lastHeartbeat, cpu: resources.cpu ?? null, memoryMb: resources.memoryMb ?? null })
    if (series.length > this.perAgent) series.splice(0, series.length - this.perAgent)
    return true
  }

  forget(agentId: string): void {
    this.points.delete(agentId)
  }

  retain(agentIds: ReadonlySet<string>): void {
    for (const id of this.points.keys()) if (!agentIds.has(id)) this.points.delete(id)
  }

  of(agentId: string): readonly ResourcePoint[] {
    return this.points.get(agentId) ?? []
  }
}
