import { describe, expect, it } from 'vitest'
import { AgentStatusSchema, TERMINAL_TASK_STATUSES, TaskStatusSchema } from '../../../src/shared/domain'
import { AGENT_STATUS_LIST, TASK_STATUS_LIST, isTerminalStatus } from '../../../src/renderer/src/statuses'

// The renderer's lists come from the zod-free src/shared/statuses.ts; the server validates with the same ones.
describe('renderer status lists', () => {
  it('are the lists the server validates against, in order', () => {
    expect(AGENT_STATUS_LIST).toEqual(AgentStatusSchema.options)
    expect(TASK_STATUS_LIST).toEqual(TaskStatusSchema.options)
  })

  it('agree with the shared terminal rule', () => {
    expect(TASK_STATUS_LIST.filter(isTerminalStatus)).toEqual([...TERMINAL_TASK_STATUSES])
    expect(TERMINAL_TASK_STATUSES).toEqual(['succeeded', 'failed', 'cancelled', 'timed_out'])
  })
})
