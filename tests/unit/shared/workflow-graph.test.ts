/** The workflow graph rule: what `POST /api/workflows` refuses, and the order it queues an accepted graph in. */
import { describe, expect, it } from 'vitest'
import { WorkflowSubmitSchema, describeIssues } from '../../../src/shared/commands'
import { checkWorkflowGraph } from '../../../src/shared/workflows'

const t = (key: string, ...dependsOn: string[]) => ({ key, dependsOn })

describe('checkWorkflowGraph', () => {
  it('orders each task after those it depends on, submission order among equals', () => {
    const graph = checkWorkflowGraph([t('deploy', 'test', 'lint'), t('build'), t('test', 'build'), t('lint', 'build')])
    expect(graph).toEqual({ ok: true, order: [1, 2, 3, 0] })
  })

  it('names a duplicate key, an unknown key, a self-dependency and a repeated one by their place', () => {
    const graph = checkWorkflowGraph([t('a'), t('a'), t('b', 'nope', 'b'), t('c', 'a', 'a')])
    expect(graph.ok).toBe(false)
    expect(!graph.ok && graph.problems).toEqual([
      { path: ['tasks', 1, 'key'], message: 'duplicate key "a" (also tasks.0)' },
      { path: ['tasks', 2, 'dependsOn', 0], message: 'unknown key "nope"' },
      { path: ['tasks', 2, 'dependsOn', 1], message: 'task "b" depends on itself' },
      { path: ['tasks', 3, 'dependsOn', 1], message: '"a" is listed twice' },
    ])
  })

  it('names a cycle by its keys, whatever hangs off it', () => {
    const graph = checkWorkflowGraph([t('root'), t('a', 'root', 'c'), t('b', 'a'), t('c', 'b'), t('tail', 'c')])
    expect(graph.ok).toBe(false)
    const message = !graph.ok ? graph.problems[0]!.message : ''
    expect(message).toMatch(/^cycle: /)
    const keys = message.slice('cycle: '.length).split(' -> ')
    expect(keys[0]).toBe(keys.at(-1))
    expect(new Set(keys)).toEqual(new Set(['a', 'b', 'c']))
  })

  it('checks a chain of 1,000 tasks quickly, without recursion', () => {
    const chain = Array.from({ length: 1000 }, (_, i) => (i === 0 ? t('k0') : t(`k${i}`, `k${i - 1}`)))
    const started = performance.now()
    const graph = checkWorkflowGraph(chain.reverse())
    expect(graph.ok && graph.order[0]).toBe(999)
    expect(performance.now() - started).toBeLessThan(200)
  })
})

describe('WorkflowSubmitSchema', () => {
  it('refuses a graph problem as a bad request naming the field', () => {
    const parsed = WorkflowSubmitSchema.safeParse({
      name: 'w',
      tasks: [{ key: 'a', name: 'a', kind: 'k', dependsOn: ['b'] }],
    })
    expect(parsed.success).toBe(false)
    expect(describeIssues(parsed.error!)).toBe('tasks.0.dependsOn.0: unknown key "b"')
  })

  it('bounds the size and shapes of a workflow', () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}`, name: 'n', kind: 'k' }))
    expect(WorkflowSubmitSchema.safeParse({ name: 'w', tasks: many }).success).toBe(false)
    expect(WorkflowSubmitSchema.safeParse({ name: 'w', tasks: [] }).success).toBe(false)
    const badKey = WorkflowSubmitSchema.safeParse({ name: 'w', tasks: [{ key: 'a b', name: 'n', kind: 'k' }] })
    expect(describeIssues(badKey.error!)).toContain('tasks.0.key')
    const shell = WorkflowSubmitSchema.safeParse({ name: 'w', tasks: [{ key: 'a', name: 'n', kind: 'shell' }] })
    expect(describeIssues(shell.error!)).toContain('tasks.0.payload.command')
  })
})
