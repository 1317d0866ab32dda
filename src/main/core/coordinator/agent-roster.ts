/**
 * The agents the coordinator knows, each with its driver and the flags its
 * status follows from (paused, fault, the tasks it holds). The status is
 * derived here only, so it cannot disagree with the flags, and every change
 * of it is announced as an `agent:status` event.
 */
import type { Agent, AgentOffline, AgentResources, AgentStatus } from '../../../shared/domain'
import type { SwarmChange } from '../../../shared/events'
import { CoordinatorError } from './errors'
import type { AgentDriver, AgentSpec } from './types'

export interface AgentEntry {
  agent: Agent
  driver: AgentDriver
  paused: boolean
  fault: 'error' | 'offline' | null
}

export class AgentRoster {
  private readonly byId = new Map<string, AgentEntry>()

  constructor(
    private readonly emit: (event: SwarmChange) => void,
    private readonly now: () => number,
  ) {}

  add(spec: AgentSpec, driver: AgentDriver): AgentEntry {
    if (this.byId.has(spec.id)) throw new CoordinatorError('conflict', `agent ${spec.id} already exists`)
    const now = this.now()
    const agent: Agent = {
      id: spec.id,
      name: spec.name,
      kind: spec.kind,
      capabilities: [...spec.capabilities],
      kinds: spec.kinds ? [...spec.kinds] : null,
      status: 'idle',
      concurrency: Math.max(1, spec.concurrency ?? 1),
      currentTaskIds: [],
      lastHeartbeat: now,
      joinedAt: now,
      counters: { done: 0, failed: 0 },
      resources: null,
      offline: null,
    }
    const entry: AgentEntry = { agent, driver, paused: false, fault: null }
    this.byId.set(agent.id, entry)
    this.announce(agent)
    return entry
  }

  /**
   * Puts a new driver behind a known entry (counters and pause state stay):
   * name, capabilities and concurrency follow the new spec; a fault is cleared.
   */
  rebind(entry: AgentEntry, spec: AgentSpec, driver: AgentDriver): void {
    entry.driver = driver
    entry.agent.kinds = spec.kinds ? [...spec.kinds] : null
    entry.agent.name = spec.name
    entry.agent.capabilities = [...spec.capabilities]
    entry.agent.concurrency = Math.max(1, spec.concurrency ?? 1)
    entry.agent.lastHeartbeat = this.now()
    entry.fault = null
    entry.agent.offline = null
    this.refresh(entry, true)
  }

  remove(agentId: string): void {
    this.byId.delete(agentId)
    this.emit({ type: 'agent:removed', at: this.now(), agentId })
  }

  heartbeat(agentId: string, resources?: AgentResources): void {
    const entry = this.byId.get(agentId)
    if (!entry) return
    entry.agent.lastHeartbeat = this.now()
    if (resources) entry.agent.resources = { ...entry.agent.resources, ...resources }
    this.announce(entry.agent)
  }

  get(agentId: string): AgentEntry | undefined {
    return this.byId.get(agentId)
  }

  require(agentId: string): AgentEntry {
    const entry = this.byId.get(agentId)
    if (!entry) throw new CoordinatorError('not_found', `no agent ${agentId}`)
    return entry
  }

  list(): AgentEntry[] {
    return [...this.byId.values()]
  }

  countByStatus(): Record<AgentStatus, number> {
    const counts: Record<AgentStatus, number> = { idle: 0, busy: 0, paused: 0, error: 0, offline: 0 }
    for (const entry of this.byId.values()) counts[entry.agent.status]++
    return counts
  }

  /** How many more tasks the agent may take now. */
  capacity(entry: AgentEntry): number {
    if (entry.paused || entry.fault !== null) return 0
    return entry.agent.concurrency - entry.agent.currentTaskIds.length
  }

  hold(entry: AgentEntry, taskId: string): void {
    entry.agent.currentTaskIds.push(taskId)
    // Announced even when the status stays (a second task on an agent of concurrency 2): what it holds changed.
    this.refresh(entry, true)
  }

  release(entry: AgentEntry, taskId: string): void {
    const index = entry.agent.currentTaskIds.indexOf(taskId)
    if (index >= 0) entry.agent.currentTaskIds.splice(index, 1)
    this.refresh(entry, true)
  }

  /** Sets or clears the fault; `offline` says how an agent went offline (none given: it fell silent). */
  setFault(entry: AgentEntry, fault: AgentEntry['fault'], offline?: Omit<AgentOffline, 'at'>): void {
    entry.fault = fault
    entry.agent.offline =
      fault === 'offline' ? { at: this.now(), ...(offline ?? { cause: 'silent', detail: 'no sign of life' }) } : null
  }

  /** Derives the status from the flags; announces it when it changed, or always with `force`. */
  refresh(entry: AgentEntry, force = false): void {
    const agent = entry.agent
    const status: AgentStatus =
      entry.fault ?? (entry.paused ? 'paused' : agent.currentTaskIds.length > 0 ? 'busy' : 'idle')
    if (status === agent.status && !force) return
    agent.status = status
    this.announce(agent)
  }

  private announce(agent: Agent): void {
    this.emit({ type: 'agent:status', at: this.now(), agent: copyAgent(agent) })
  }
}

/** What leaves the roster is a copy: the live agent keeps changing. */
export function copyAgent(agent: Agent): Agent {
  return {
    ...agent,
    capabilities: [...agent.capabilities],
    kinds: agent.kinds && [...agent.kinds],
    currentTaskIds: [...agent.currentTaskIds],
    counters: { ...agent.counters },
    resources: agent.resources && { ...agent.resources },
    offline: agent.offline && { ...agent.offline },
  }
}
