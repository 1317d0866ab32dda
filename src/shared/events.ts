/**
 * Domain events: every change in the swarm, as the pipeline carries it.
 *
 * Each event is an envelope `{ seq, type, at, ...data }`. `seq` is assigned
 * by the server, strictly increasing, and never reused while it runs. Agent and
 * task events carry the entity's whole new state, so applying an event is an
 * upsert and applying the latest one is enough (what makes coalescing safe).
 */
import type { Agent, Alert, MetricsSample, Task } from './domain'
import type { LogLevel } from './statuses'

interface EventData {
  'agent:status': { agent: Agent }
  'agent:removed': { agentId: string }
  'task:status': { task: Task }
  'task:log': { taskId: string; agentId: string | null; level: LogLevel; message: string }
  metrics: { sample: MetricsSample }
  alert: { alert: Alert }
}

export type { LogLevel }

export type DomainEventType = keyof EventData

export type EventOf<T extends DomainEventType> = { seq: number; type: T; at: number } & EventData[T]

export type DomainEvent = { [T in DomainEventType]: EventOf<T> }[DomainEventType]

/** An event before the pipeline has given it a sequence number. */
export type UnsequencedEvent = { [T in DomainEventType]: Omit<EventOf<T>, 'seq'> }[DomainEventType]

export const CHANNELS = ['agents', 'tasks', 'metrics', 'logs', 'alerts'] as const
export type Channel = (typeof CHANNELS)[number]

export const EVENT_CHANNEL: Record<DomainEventType, Channel> = {
  'agent:status': 'agents',
  'agent:removed': 'agents',
  'task:status': 'tasks',
  'task:log': 'logs',
  metrics: 'metrics',
  alert: 'alerts',
}
