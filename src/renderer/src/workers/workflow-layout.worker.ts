/**
 * Lays out a workflow's graph off the page's main thread: dagre takes about
 * half a second for 500 tasks, which would freeze the page if done there.
 * One request in, one layout out, tagged with the request's number.
 */
import { layoutWorkflow, type Layout, type LayoutNode } from '../workflow-layout'

export interface LayoutRequest {
  n: number
  nodes: LayoutNode[]
}
export interface LayoutAnswer {
  n: number
  layout: Layout
}

self.onmessage = (event: MessageEvent<LayoutRequest>) => {
  const { n, nodes } = event.data
  const answer: LayoutAnswer = { n, layout: layoutWorkflow(nodes) }
  self.postMessage(answer)
}
