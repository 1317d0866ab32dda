import type { AgentStatus, TaskStatus } from '../../../shared/domain'

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
