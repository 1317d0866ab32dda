import { describe, expect, it } from 'vitest'
import type { TaskLogLine, TaskTransition } from '../../../src/shared/domain'
import { describeEnd, logByAttempt } from '../../../src/renderer/src/task-attempts'

const T0 = 1_700_000_000_000
const step = (at: number, status: TaskTransition['status'], attempt: number, extra: Partial<TaskTransition> = {}) =>
  ({ at: T0 + at, status, attempt, agentId: null, error: null, ...extra }) satisfies TaskTransition
const line = (at: number, message: string): TaskLogLine => ({ at: T0 + at, level: 'info', message })

describe('a task log split by attempt', () => {
  const transitions = [
    step(0, 'queued', 0),
    step(10, 'assigned', 1, { agentId: 'a' }),
    step(20, 'running', 1, { agentId: 'a' }),
    step(100, 'queued', 1, { error: 'requeued: the server restarted while the task was running' }),
    step(200, 'assigned', 2, { agentId: 'b' }),
    step(210, 'running', 2, { agentId: 'b' }),
    step(300, 'queued', 2, { error: 'attempt 2: exit code 3' }),
    step(400, 'assigned', 3, { agentId: 'b' }),
    step(500, 'failed', 3, { agentId: 'b', error: 'exit code 3' }),
  ]

  it('puts each line under the attempt it was logged in, and says how each attempt ended', () => {
    const runs = logByAttempt(
      [line(30, 'one'), line(250, 'two'), line(260, 'two more'), line(450, 'three')],
      transitions,
    )
    expect(runs.map((run) => [run.attempt, run.agentId, run.lines.map((l) => l.message)])).toEqual([
      [1, 'a', ['one']],
      [2, 'b', ['two', 'two more']],
      [3, 'b', ['three']],
    ])
    expect(runs.map((run) => describeEnd(run.end))).toEqual([
      'requeued: the server restarted while the task was running (not counted as a retry)',
      'retried after: exit code 3',
      'failed: exit code 3',
    ])
  })

  it('keeps lines logged before the first assignment with the first attempt, and has no attempts without transitions', () => {
    expect(logByAttempt([line(5, 'early')], transitions)[0]!.lines.map((l) => l.message)).toEqual(['early'])
    expect(logByAttempt([line(5, 'x')], [])).toEqual([])
    const running = logByAttempt([], [step(0, 'queued', 0), step(10, 'assigned', 1)])
    expect(describeEnd(running[0]!.end)).toBe('running')
  })
})
