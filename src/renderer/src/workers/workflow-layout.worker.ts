/**
 * Lays out a workflow's graph off the page's main thread: dagre takes about
 * half a second for 500 tasks, which would freeze the page if done there.
 * One request in, one layout out, tagged with the request's number.
 */
import { layoutWorkflow, type LayoutAnswer, type LayoutRequest } from '../workflow-layout'

self.onmessage = (event: MessageEvent<LayoutRequest>) => {
  const { n, nodes } = event.data
  const answer: LayoutAnswer = { n, layout: layoutWorkflow(nodes) }
  self.postMessage(answer)
}
