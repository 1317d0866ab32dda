/**
 * The bulk filter's one rule (the server over the tasks it holds, the Tasks
 * view over its rows) and the request's schema: exactly one of filter and
 * ids, every bound, a refusal naming the field.
 */
import { describe, expect, it } from 'vitest'
import { describeIssues, TaskBulkSchema } from '../../../src/shared/commands'
import { matchesBulkFilter, TASK_BULK_LIMITS } from '../../../src/shared/task-bulk'
import { task } from '../../helpers/factories'

describe('matchesBulkFilter', () => {
  const build = task('t-abc1', 'failed', undefined, {
    name: 'Nightly Build',
    kind: 'build',
    agentId: 'w1',
    error: 'exit 2: disk full',
  })

  it('holds for every field given (AND); an empty filter matches everything', () => {
    expect(matchesBulkFilter(build, {})).toBe(true)
    expect(matchesBulkFilter(build, { status: 'failed', kind: 'build', agent: 'w1' })).toBe(true)
    expect(matchesBulkFilter(build, { status: ['queued', 'failed'] })).toBe(true)
    expect(matchesBulkFilter(build, { status: ['queued', 'running'] })).toBe(false)
    expect(matchesBulkFilter(build, { status: 'failed', kind: 'test' })).toBe(false)
    expect(matchesBulkFilter(build, { agent: 'w2' })).toBe(false)
  })

  it('finds the text in the name, id, kind or error, in any case, as the Tasks view does', () => {
    for (const text of ['nightly b', 'T-ABC', 'buil', 'DISK FULL'])
      expect(matchesBulkFilter(build, { text })).toBe(true)
    expect(matchesBulkFilter(build, { text: 'w1' })).toBe(false)
    expect(matchesBulkFilter({ ...build, error: null }, { text: 'disk' })).toBe(false)
  })
})

describe('TaskBulkSchema', () => {
  const refusal = (input: unknown) => {
    const parsed = TaskBulkSchema.safeParse(input)
    return parsed.success ? null : describeIssues(parsed.error)
  }

  it('takes a filter or ids, trims the text, and defaults dryRun to false', () => {
    expect(TaskBulkSchema.parse({ action: 'retry', filter: { text: '  build ' } })).toEqual({
      action: 'retry',
      filter: { text: 'build' },
      dryRun: false,
    })
    expect(TaskBulkSchema.parse({ action: 'cancel', ids: ['a'], dryRun: true })).toMatchObject({ dryRun: true })
  })

  it('refuses, naming the field: neither or both, bounds, unknown keys', () => {
    expect(refusal({ action: 'cancel' })).toBe('filter: give exactly one of filter and ids')
    expect(refusal({ action: 'cancel', ids: ['a'], filter: {} })).toBe('filter: give exactly one of filter and ids')
    expect(refusal({ action: 'pause', ids: ['a'] })).toMatch(/^action: /)
    expect(refusal({ action: 'cancel', ids: [] })).toMatch(/^ids: /)
    expect(
      refusal({ action: 'cancel', ids: Array.from({ length: TASK_BULK_LIMITS.ids + 1 }, (_, i) => `t${i}`) }),
    ).toMatch(/^ids: Too big/)
    expect(TaskBulkSchema.safeParse({ action: 'cancel', ids: Array(TASK_BULK_LIMITS.ids).fill('t') }).success).toBe(
      true,
    )
    expect(refusal({ action: 'cancel', ids: ['x'.repeat(129)] })).toMatch(/^ids\.0: /)
    expect(refusal({ action: 'cancel', filter: { status: 'done' } })).toMatch(/^filter\.status: must be a task status/)
    expect(refusal({ action: 'cancel', filter: { status: [] } })).toMatch(/^filter\.status: /)
    expect(refusal({ action: 'cancel', filter: { text: 'x'.repeat(TASK_BULK_LIMITS.textLength + 1) } })).toMatch(
      /^filter\.text: /,
    )
    expect(refusal({ action: 'cancel', filter: { kind: '' } })).toMatch(/^filter\.kind: /)
    expect(refusal({ action: 'cancel', filter: {}, force: true })).toMatch(/force/)
  })
})
