/**
 * A task's log split by attempt, for the task drawer: each run on an agent
 * starts at its `assigned` transition (the history stores transitions with
 * their attempt number), and its lines are those logged from then until the
 * next run starts. Pure, so the unit tests use the same rule.
 */
import type { TaskLogLine, TaskStatus, TaskTransition } from '../../shared/domain'
import { isTerminal } from '../../shared/statuses'

export interface AttemptRun {
  /** The run's number (`attempts` when it started). */
  attempt: number
  agentId: string | null
  /** When it was assigned. */
  at: number
  /**
   * How it ended, when it has: `requeued` (the agent left or the server
   * restarted: not a retry), `retried` (it failed, a retry followed), or the
   * task's final status.
   */
  end: { kind: 'requeued' | 'retried' | TaskStatus; error: string | null } | null
  lines: TaskLogLine[]
}

/** The runs in order with their lines; lines from before the first run go to the first. Empty without runs. */
export function logByAttempt(lines: readonly TaskLogLine[], transitions: readonly TaskTransition[]): AttemptRun[] {
  const runs: AttemptRun[] = []
  for (const step of transitions) {
    if (step.status === 'assigned') {
      runs.push({ attempt: step.attempt, agentId: step.agentId, at: step.at, end: null, lines: [] })
      continue
    }
    const run = runs.at(-1)
    if (!run || run.end) continue
    if (step.status === 'queued') {
      const requeued = step.error?.startsWith('requeued:') ?? false
      run.end = { kind: requeued ? 'requeued' : 'retried', error: step.error }
    } else if (isTerminal(step.status)) {
      run.end = { kind: step.status, error: step.error }
    }
  }
  if (runs.length === 0) return []
  let current = 0
  for (const line of lines) {
    while (current + 1 < runs.length && line.at >= runs[current + 1]!.at) current++
    runs[current]!.lines.push(line)
  }
  return runs
}

/** How a run ended, in a few words for its marker. */
export function describeEnd(end: AttemptRun['end']): string {
  if (!end) return 'running'
  switch (end.kind) {
    case 'requeued':
      return `${end.error ?? 'requeued'} (not counted as a retry)`
    case 'retried':
      return end.error ? `retried after: ${end.error.replace(/^attempt \d+: /, '')}` : 'retried'
    default:
      return end.error ? `${end.kind.replace('_', ' ')}: ${end.error}` : end.kind.replace('_', ' ')
  }
}
