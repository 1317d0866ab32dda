import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Task } from '../../../src/shared/domain'
import { parseRoute, useUiStore } from '../../../src/renderer/src/stores/ui'
import { TaskOrder } from '../../../src/renderer/src/stores/swarm.tasks'

describe('ui store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('reads the view and the open detail from the fragment, beside the token', () => {
    expect(parseRoute('')).toEqual({ view: 'overview', task: null, agent: null, workflow: null })
    expect(parseRoute('#token=abc')).toEqual({ view: 'overview', task: null, agent: null, workflow: null })
    expect(parseRoute('#view=tasks&task=t-1&token=abc')).toEqual({
      view: 'tasks',
      task: 't-1',
      agent: null,
      workflow: null,
    })
    expect(parseRoute('#token=abc&view=agents&agent=demo-01')).toEqual({
      view: 'agents',
      task: null,
      agent: 'demo-01',
      workflow: null,
    })
    expect(parseRoute('#view=workflows&workflow=w-1')).toMatchObject({ view: 'workflows', workflow: 'w-1' })
    // A workflow is read in its view only.
    expect(parseRoute('#view=tasks&workflow=w-1')).toMatchObject({ view: 'tasks', workflow: null })
    expect(parseRoute('#view=nonsense')).toMatchObject({ view: 'overview' })
  })

  it('switches views and details without a window (unit tests, SSR)', () => {
    const ui = useUiStore()
    ui.openTask('t-1')
    expect(ui.selectedTaskId).toBe('t-1')
    ui.openAgent('a-1')
    expect(ui.selectedTaskId).toBeNull()
    expect(ui.selectedAgentId).toBe('a-1')
    ui.navigate('logs')
    expect(ui.view).toBe('logs')
    expect(ui.selectedAgentId).toBeNull()
  })

  it('sorts agents by a column, toggling the direction on the same column', () => {
    const ui = useUiStore()
    expect(ui.agentSort).toEqual({ key: 'name', descending: false })
    ui.sortAgentsBy('name')
    expect(ui.agentSort.descending).toBe(true)
    ui.sortAgentsBy('cpu')
    expect(ui.agentSort).toEqual({ key: 'cpu', descending: true })
    ui.sortAgentsBy('status')
    expect(ui.agentSort).toEqual({ key: 'status', descending: false })
  })
})

describe('TaskOrder', () => {
  it('keeps ids in creation order through inserts and removals', () => {
    const order = new TaskOrder()
    const t = (id: string, createdAt: number, status = 'queued') => ({ id, createdAt, status }) as Task
    order.reset([t('c', 3), t('a', 1)])
    order.upsert(t('d', 4))
    order.upsert(t('b', 2))
    order.upsert(t('b2', 2))
    order.upsert(t('b', 2, 'running'))
    const ids = () => order.newestFirst().map((x) => x.id)
    expect(ids()).toEqual(['d', 'c', 'b2', 'b', 'a'])
    expect(order.newestFirst()[3]!.status).toBe('running')
    order.remove(t('b', 2))
    order.remove(t('zz', 2))
    expect(order.size).toBe(4)
    expect(ids()).toEqual(['d', 'c', 'b2', 'a'])
  })
})
