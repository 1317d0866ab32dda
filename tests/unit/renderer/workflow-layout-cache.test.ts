/** The open workflow's layout is made once per shape: reloads that only change statuses keep it. */
import { effectScope, nextTick, ref } from 'vue'
import { expect, it } from 'vitest'
import { useWorkflowLayout } from '../../../src/renderer/src/composables/useWorkflowLayout'
import {
  layoutWorkflow,
  type LayoutAnswer,
  type LayoutNode,
  type LayoutRequest,
  type LayoutWorker,
} from '../../../src/renderer/src/workflow-layout'

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

it('takes only the answer to the latest graph from its worker, and lays out in place when the worker fails', async () => {
  const requests: LayoutRequest[] = []
  let hear: ((answer: LayoutAnswer) => void) | null = null
  let fail: (() => void) | null = null
  let terminated = 0
  const worker: LayoutWorker = {
    listen: (onAnswer, onError) => ((hear = onAnswer), (fail = onError)),
    postMessage: (request) => void requests.push(request),
    terminate: () => void terminated++,
  }
  const scope = effectScope()
  const nodes = ref<readonly LayoutNode[] | null>([{ key: 'a', dependsOn: [] }])
  const { layout, pending, madeBy } = scope.run(() => useWorkflowLayout(nodes, () => worker))!
  expect(pending.value).toBe(true)
  nodes.value = [
    { key: 'a', dependsOn: [] },
    { key: 'b', dependsOn: ['a'] },
  ]
  await nextTick()
  expect(requests.map((r) => r.nodes.length)).toEqual([1, 2])

  // The first graph's answer comes late: dropped.
  hear!({ n: requests[0]!.n, layout: layoutWorkflow(requests[0]!.nodes) })
  expect(layout.value).toBeNull()
  hear!({ n: requests[1]!.n, layout: layoutWorkflow(requests[1]!.nodes) })
  expect(layout.value?.nodes.size).toBe(2)
  expect([pending.value, madeBy.value]).toEqual([false, 'worker'])

  // A worker that fails: this graph is laid out in place, and the worker is let go.
  nodes.value = [{ key: 'c', dependsOn: [] }]
  await nextTick()
  fail!()
  expect(layout.value?.nodes.has('c')).toBe(true)
  expect([madeBy.value, terminated]).toEqual(['page', 1])
  scope.stop()
})
