import { describe, expect, it } from 'vitest'
import { AGENT_STATUSES, TASK_STATUSES, isTerminal } from '../../../src/shared/domain'
import { AGENT_STATUS_LIST, TASK_STATUS_LIST, isTerminalStatus } from '../../../src/renderer/src/statuses'

// The renderer keeps zod-free copies of these lists (see src/renderer/src/statuses.ts).
describe('renderer status lists', () => {
  it('match the shared domain lists, in order', () => {
    expect(AGENT_STATUS_LIST).toEqual([...AGENT_STATUSES])
    expect(TASK_STATUS_LIST).toEqual([...TASK_STATUSES])
  })

  it('agree with the shared terminal rule', () => {
    for (const status of TASK_STATUSES) expect(isTerminalStatus(status)).toBe(isTerminal(status))
  })
})
