/**
 * The bounds the submit form takes from src/shared/task-limits.ts are the
 * ones the server's schema enforces: each is accepted at its edge and
 * refused one past it, and an environment name passes the form's check
 * exactly when the schema takes it.
 */
import { describe, expect, it } from 'vitest'
import { TaskSubmitSchema, type TaskSubmitRequest } from '../../../src/shared/commands'
import { TASK_LIMITS, isEnvName } from '../../../src/shared/task-limits'

const shell = (fields: Partial<TaskSubmitRequest> = {}, payload: Record<string, unknown> = {}) =>
  TaskSubmitSchema.safeParse({ name: 'job', kind: 'shell', payload: { command: 'true', ...payload }, ...fields })
    .success

describe('task limits', () => {
  it('are the schema bounds the form shows', () => {
    expect(shell({ name: 'n'.repeat(TASK_LIMITS.nameLength) })).toBe(true)
    expect(shell({ name: 'n'.repeat(TASK_LIMITS.nameLength + 1) })).toBe(false)
    expect(shell({ priority: TASK_LIMITS.priority.min })).toBe(true)
    expect(shell({ priority: TASK_LIMITS.priority.min - 1 })).toBe(false)
    expect(shell({ priority: TASK_LIMITS.priority.max })).toBe(true)
    expect(shell({ priority: TASK_LIMITS.priority.max + 1 })).toBe(false)
    expect(shell({ maxRetries: TASK_LIMITS.maxRetries })).toBe(true)
    expect(shell({ maxRetries: TASK_LIMITS.maxRetries + 1 })).toBe(false)
    expect(shell({ timeoutMs: TASK_LIMITS.timeoutMs })).toBe(true)
    expect(shell({ timeoutMs: TASK_LIMITS.timeoutMs + 1 })).toBe(false)
    expect(shell({}, { command: 'c'.repeat(TASK_LIMITS.commandLength) })).toBe(true)
    expect(shell({}, { command: 'c'.repeat(TASK_LIMITS.commandLength + 1) })).toBe(false)
  })

  it.each(['PATH', '_x', 'a1_B2', '1A', 'A-B', 'A B', '', 'É', 'A=B'])(
    'environment name %j: the form and the server agree',
    (name) => {
      expect(isEnvName(name)).toBe(shell({}, { env: { [name]: 'v' } }))
    },
  )
})
