import type { Agent, AgentStatus, TaskStatus } from '../../../shared/domain'

/** The colour family of each status; the `tone-*` classes in styles/theme.css map them to colours. */
export type Tone = 'green' | 'blue' | 'teal' | 'amber' | 'orange' | 'red' | 'purple' | 'gray'

export const STATUS_TONE: Record<AgentStatus | TaskStatus, Tone> = {
  idle: 'teal',
  busy: 'green',
  paused: 'amber',
  error: 'red',
  offline: 'gray',
  queued: 'gray',
  assigned: 'purple',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'amber',
  timed_out: 'orange',
}

export function statusLabel(status: AgentStatus | TaskStatus): string {
  return status.replace('_', ' ')
}

/** How an agent's heartbeat age reads on the server's clock: late after 10 s, stale after 30 s; faint once offline. */
export function heartbeatClass(agent: Pick<Agent, 'status' | 'lastHeartbeat'>, serverNow: number): string {
  if (agent.status === 'offline') return 'faint'
  const age = serverNow - agent.lastHeartbeat
  return age > 30_000 ? 'stale' : age > 10_000 ? 'late' : ''
}
