/**
 * What a viewer asked to receive: channels, optionally narrowed to agents.
 * Viewers with equal subscriptions share a Socket.IO room, so each batch is
 * filtered and encoded once per distinct subscription, not once per viewer.
 */
import { CHANNELS, EVENT_CHANNEL, type Channel, type DomainEvent } from '../../../shared/events'

export interface Subscription {
  channels: ReadonlySet<Channel>
  /** null: every agent. */
  agentIds: ReadonlySet<string> | null
}

export const EVERYTHING: Subscription = { channels: new Set(CHANNELS), agentIds: null }

export function subscription(channels: readonly Channel[], agentIds?: readonly string[]): Subscription {
  return { channels: new Set(channels), agentIds: agentIds ? new Set(agentIds) : null }
}

export function subscriptionKey(sub: Subscription): string {
  const channels = [...sub.channels].sort().join(',')
  const agents = sub.agentIds ? [...sub.agentIds].sort().join(',') : '*'
  return `sub:${channels}|${agents}`
}

/**
 * The agent an event belongs to for narrowing, or null when narrowing does
 * not apply. Agent status, log lines and agent alerts are narrowed; tasks are
 * not (a task moves between agents, and a view that lost sight of it would
 * hold a stale state), nor are metrics, swarm-wide alerts, kinds and schedules.
 */
function narrowedBy(event: DomainEvent): string | null {
  switch (event.type) {
    case 'agent:added':
      return event.agent.id
    case 'agent:status':
    case 'agent:removed':
    case 'task:log':
      return event.agentId
    case 'alert':
      return event.alert.agentId
    case 'task:added':
    case 'task:status':
    case 'task:progress':
    case 'metrics':
    case 'kind:limits':
    case 'schedule':
    case 'schedule:removed':
      return null
    default: {
      // A new event type fails to compile here until it says whether narrowing applies.
      const never: never = event
      return never
    }
  }
}

export function matches(sub: Subscription, event: DomainEvent): boolean {
  if (!sub.channels.has(EVENT_CHANNEL[event.type])) return false
  if (sub.agentIds === null) return true
  const agentId = narrowedBy(event)
  return agentId === null || sub.agentIds.has(agentId)
}

/** Whether everything `next` lets through, `current` already did. */
export function covers(current: Subscription, next: Subscription): boolean {
  for (const channel of next.channels) if (!current.channels.has(channel)) return false
  if (current.agentIds === null) return true
  if (next.agentIds === null) return false
  for (const id of next.agentIds) if (!current.agentIds.has(id)) return false
  return true
}
