/**
 * Where each task of a workflow is drawn, by dagre (@dagrejs/dagre): a
 * layered layout left to right, each task right of what it depends on, with
 * dagre's crossing reduction and its edge routes around the tasks. This
 * module only turns dagre's centres and bend points into what the view draws:
 * top-left corners and SVG paths.
 */
import { Graph, layout, type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre'

export interface LayoutNode {
  key: string
  dependsOn: readonly string[]
}

export interface Placed {
  key: string
  /** Top-left corner, in pixels from the drawing's top-left. */
  x: number
  y: number
}

export interface Edge {
  from: string
  to: string
  /** An SVG path from the right side of `from` to the left side of `to`, through dagre's bend points. */
  path: string
}

export interface Layout {
  nodes: Map<string, Placed>
  edges: Edge[]
  width: number
  height: number
}

/** What the page sends the layout worker (workers/workflow-layout.worker.ts), and what it answers. */
export interface LayoutRequest {
  n: number
  nodes: LayoutNode[]
}
export interface LayoutAnswer {
  n: number
  layout: Layout
}

/** What the page needs of the layout worker (workers/start-layout-worker.ts wraps a DOM `Worker`; tests under Node have none). */
export interface LayoutWorker {
  /** Sets who hears its answers and its failure (one listener each; a later call replaces them). */
  listen(onAnswer: (answer: LayoutAnswer) => void, onError: () => void): void
  postMessage(request: LayoutRequest): void
  terminate(): void
}

export const NODE = { width: 150, height: 40, gapX: 44, gapY: 14 } as const

/** A smooth path through `points`: straight segments joined by quadratic curves at each bend. */
function pathThrough(points: readonly { x: number; y: number }[]): string {
  const [first, ...rest] = points
  if (!first) return ''
  let path = `M${round(first.x)},${round(first.y)}`
  for (let i = 0; i < rest.length; i++) {
    const point = rest[i]!
    const next = rest[i + 1]
    if (!next) {
      path += ` L${round(point.x)},${round(point.y)}`
      break
    }
    // Bend at `point`, curving towards the middle of the next segment.
    path += ` Q${round(point.x)},${round(point.y)} ${round((point.x + next.x) / 2)},${round((point.y + next.y) / 2)}`
  }
  return path
}

const round = (n: number) => Math.round(n * 10) / 10

/** Dependencies on keys the workflow does not hold are left out (the server refuses such workflows). */
export function layoutWorkflow(nodes: readonly LayoutNode[]): Layout {
  const graph = new Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: false })
  graph.setGraph({ rankdir: 'LR', nodesep: NODE.gapY, ranksep: NODE.gapX, edgesep: 6, marginx: 0, marginy: 0 })
  graph.setDefaultEdgeLabel(() => ({}))
  for (const node of nodes) graph.setNode(node.key, { width: NODE.width, height: NODE.height })
  const keys = new Set(nodes.map((node) => node.key))
  for (const node of nodes) {
    for (const key of node.dependsOn) if (keys.has(key) && key !== node.key) graph.setEdge(key, node.key)
  }
  layout(graph)

  const placed = new Map<string, Placed>()
  for (const node of nodes) {
    const { x = 0, y = 0 } = graph.node(node.key)
    placed.set(node.key, { key: node.key, x: round(x - NODE.width / 2), y: round(y - NODE.height / 2) })
  }
  const edges: Edge[] = graph.edges().map(({ v, w }) => {
    const from = placed.get(v)!
    const to = placed.get(w)!
    // From the middle of the source's right side to the middle of the target's left side, through dagre's bends.
    const bends = (graph.edge(v, w).points ?? []).slice(1, -1)
    const points = [
      { x: from.x + NODE.width, y: from.y + NODE.height / 2 },
      ...bends,
      { x: to.x, y: to.y + NODE.height / 2 },
    ]
    return { from: v, to: w, path: pathThrough(points) }
  })
  // dagre gives an empty graph no finite size.
  const size = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? Math.ceil(n) : 0)
  const { width, height } = graph.graph()
  return { nodes: placed, edges, width: size(width), height: size(height) }
}
