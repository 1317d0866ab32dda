/** The open workflow's layout is made once per shape: reloads that only change statuses keep it. */
import { effectScope, nextTick, ref } from 'vue'
import { expect, it } from 'vitest'
import { useWorkflowLayout } from '../../../src/renderer/src/composables/useWorkflowLayout'
import type { LayoutNode } from '../../../src/renderer/src/workflow-layout'

it('keeps the layout across reloads of the same graph, and makes a new one for another', async () => {
  const scope = effectScope()
  const nodes = ref<readonly (LayoutNode & { status: string })[] | null>(null)
  const { layout, madeBy } = scope.run(() => useWorkflowLayout(nodes))!
  expect(layout.value).toBeNull()

  nodes.value = [
    { key: 'a', dependsOn: [], status: 'running' },
    { key: 'b', dependsOn: ['a'], status: 'queued' },
  ]
  await nextTick()
  const first = layout.value
  expect(first?.nodes.size).toBe(2)
  expect(madeBy.value).toBe('page') // no Worker under Node: laid out in place

  // The store reloads: new objects, new statuses, the same shape.
  nodes.value = [
    { key: 'a', dependsOn: [], status: 'succeeded' },
    { key: 'b', dependsOn: ['a'], status: 'running' },
  ]
  await nextTick()
  expect(layout.value).toBe(first)

  nodes.value = [...nodes.value, { key: 'c', dependsOn: ['b'], status: 'queued' }]
  await nextTick()
  expect(layout.value).not.toBe(first)
  expect(layout.value?.nodes.size).toBe(3)

  nodes.value = null
  await nextTick()
  expect(layout.value).toBeNull()
  scope.stop()
})
