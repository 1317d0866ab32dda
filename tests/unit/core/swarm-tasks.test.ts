import { describe, expect, it } from 'vitest'
import { TaskSubmitSchema } from '../../../src/shared/commands'
import { planSwarmTasks, swarmTaskId } from '../../../src/main/core/agents/swarm-tasks'

const task = (fields: Record<string, unknown>) => TaskSubmitSchema.parse({ name: 'job', kind: 'test', ...fields })

describe('swarm file task ids', () => {
  it('are the same for the same task in the same file, whatever order its keys were written in', () => {
    const a = task({ payload: { x: 1, y: [1, { b: 2, a: 1 }] }, priority: 3 })
    const b = task({ priority: 3, payload: { y: [1, { a: 1, b: 2 }], x: 1 } })
    expect(swarmTaskId('/srv/swarm.yaml', a, 0)).toBe(swarmTaskId('/srv/swarm.yaml', b, 0))
    expect(swarmTaskId('/srv/swarm.yaml', a, 0)).toMatch(/^s-[0-9a-f]{24}$/)
    // Another file, another copy, another task: another id.
    expect(swarmTaskId('/srv/other.yaml', a, 0)).not.toBe(swarmTaskId('/srv/swarm.yaml', a, 0))
    expect(swarmTaskId('/srv/swarm.yaml', a, 1)).not.toBe(swarmTaskId('/srv/swarm.yaml', a, 0))
    expect(swarmTaskId('/srv/swarm.yaml', task({ priority: 4 }), 0)).not.toBe(swarmTaskId('/srv/swarm.yaml', a, 0))
  })

  it('plan: copies of one task count apart; those the history holds are kept, not enqueued', () => {
    const tasks = [task({ name: 'a' }), task({ name: 'a' }), task({ name: 'b' })]
    const first = planSwarmTasks('/srv/swarm.yaml', tasks, new Set())
    expect(first.enqueue.map((t) => t.task.name)).toEqual(['a', 'a', 'b'])
    expect(new Set(first.enqueue.map((t) => t.id)).size).toBe(3)
    // The history holds the first "a" only: the second copy and "b" are enqueued; moving "b" first changes nothing.
    const again = planSwarmTasks('/srv/swarm.yaml', [tasks[2]!, ...tasks.slice(0, 2)], new Set([first.enqueue[0]!.id]))
    expect(again.kept).toEqual([{ id: first.enqueue[0]!.id, name: 'a' }])
    expect(again.enqueue.map((t) => t.id).sort()).toEqual([first.enqueue[1]!.id, first.enqueue[2]!.id].sort())
  })
})
