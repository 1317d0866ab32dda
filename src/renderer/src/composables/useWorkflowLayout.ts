/**
 * The layout of the open workflow, computed once per graph: the store
 * reloads the workflow every second while its tasks change, but its shape
 * (keys and dependencies) only changes when another workflow opens, so a
 * reload with the same shape keeps the layout it has. A new shape is laid
 * out in a worker (`start`, the page's workers/start-layout-worker.ts);
 * meanwhile `layout` is null and `pending` true. Where no worker can start,
 * it is laid out here.
 */
import { onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue'
import {
  layoutWorkflow,
  type Layout,
  type LayoutAnswer,
  type LayoutNode,
  type LayoutRequest,
  type LayoutWorker,
} from '../workflow-layout'

/** The graph's shape: what the layout depends on, nothing else (not statuses). */
export function shapeOf(nodes: readonly LayoutNode[]): string {
  return JSON.stringify(nodes.map((node) => [node.key, node.dependsOn]))
}

export function useWorkflowLayout(
  nodes: Ref<readonly LayoutNode[] | null>,
  start: () => LayoutWorker | null = () => null,
) {
  const layout = shallowRef<Layout | null>(null)
  const pending = ref(false)
  /** Where the last layout was made: in the worker, or here when none could start. */
  const madeBy = ref<'worker' | 'page' | null>(null)
  let shape: string | null = null
  let requested = 0
  let worker: LayoutWorker | null = null

  function answered(answer: LayoutAnswer, by: 'worker' | 'page'): void {
    if (answer.n !== requested) return // an older graph's, overtaken
    layout.value = answer.layout
    madeBy.value = by
    pending.value = false
  }

  watch(
    nodes,
    (now) => {
      const next = now ? shapeOf(now) : null
      if (next === shape) return
      shape = next
      requested++
      layout.value = null
      if (!now) {
        pending.value = false
        return
      }
      worker ??= start()
      if (!worker) {
        answered({ n: requested, layout: layoutWorkflow(now) }, 'page')
        return
      }
      worker.listen(
        (answer) => answered(answer, 'worker'),
        () => {
          // A worker that cannot run (a policy, an old browser): lay out here once, and stop asking it.
          worker?.terminate()
          worker = null
          answered({ n: requested, layout: layoutWorkflow(now) }, 'page')
        },
      )
      pending.value = true
      const request: LayoutRequest = {
        n: requested,
        nodes: now.map((node) => ({ key: node.key, dependsOn: [...node.dependsOn] })),
      }
      worker.postMessage(request)
    },
    { immediate: true },
  )

  onScopeDispose(() => worker?.terminate())
  return { layout, pending, madeBy }
}
