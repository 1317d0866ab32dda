/**
 * Where each task of a workflow is drawn: layered left to right, a task one
 * layer right of the furthest task it depends on (the longest path), and in
 * its layer near the tasks it depends on (the mean of their rows), so most
 * edges run straight. A plain layering, not a general graph layout: the
 * project has no layout library (dagre, ELK) installed; a workflow's graph is
 * acyclic and comes in dependency order, which is all this needs.
 */
export interface LayoutNode {
  key: string
  dependsOn: readonly string[]
}

export interface Placed {
  key: string
  layer: number
  row: number
  x: number
  y: number
}

export interface Edge {
  from: string
  to: string
  /** An SVG path from the right side of `from` to the left side of `to`; one that skips layers runs between rows. */
  path: string
}

export interface Layout {
  nodes: Map<string, Placed>
  edges: Edge[]
  width: number
  height: number
}

export const NODE = { width: 150, height: 40, gapX: 44, gapY: 14 } as const

/** `nodes` in dependency order (each after those it depends on), as `GET /api/workflows/:id` gives them. */
export function layoutWorkflow(nodes: readonly LayoutNode[]): Layout {
  const layerOf = new Map<string, number>()
  for (const node of nodes) {
    let layer = 0
    for (const key of node.dependsOn) layer = Math.max(layer, (layerOf.get(key) ?? -1) + 1)
    layerOf.set(node.key, layer)
  }
  const layers: LayoutNode[][] = []
  for (const node of nodes) (layers[layerOf.get(node.key)!] ??= []).push(node)

  const rowOf = new Map<string, number>()
  layers.forEach((members, layer) => {
    const wanted = members.map((node, i) => {
      const rows = node.dependsOn.map((key) => rowOf.get(key)).filter((row): row is number => row !== undefined)
      return { node, want: layer === 0 || rows.length === 0 ? i : rows.reduce((a, b) => a + b, 0) / rows.length, i }
    })
    wanted.sort((a, b) => a.want - b.want || a.i - b.i)
    wanted.forEach(({ node }, row) => rowOf.set(node.key, row))
  })

  const placed = new Map<string, Placed>()
  for (const node of nodes) {
    const layer = layerOf.get(node.key)!
    const row = rowOf.get(node.key)!
    placed.set(node.key, {
      key: node.key,
      layer,
      row,
      x: layer * (NODE.width + NODE.gapX),
      y: row * (NODE.height + NODE.gapY),
    })
  }
  const edges: Edge[] = []
  for (const node of nodes) {
    const to = placed.get(node.key)!
    for (const key of node.dependsOn) {
      const from = placed.get(key)
      if (!from) continue
      const x1 = from.x + NODE.width
      const y1 = from.y + NODE.height / 2
      const x2 = to.x
      const y2 = to.y + NODE.height / 2
      let path: string
      if (to.layer - from.layer <= 1) {
        const bend = (x2 - x1) / 2
        path = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`
      } else {
        // Across layers between: along the free lane under the source's row, so it never runs behind a task.
        const lane = from.y + NODE.height + NODE.gapY / 2
        const a = x1 + NODE.gapX / 2
        const b = x2 - NODE.gapX / 2
        path = `M${x1},${y1} C${a},${y1} ${x1},${lane} ${a},${lane} L${b},${lane} C${x2},${lane} ${b},${y2} ${x2},${y2}`
      }
      edges.push({ from: key, to: node.key, path })
    }
  }
  const deepest = Math.max(0, ...layers.map((members) => members.length))
  return {
    nodes: placed,
    edges,
    width: layers.length * (NODE.width + NODE.gapX) - NODE.gapX,
    // The lane under the last row too: an edge may run there.
    height: deepest * (NODE.height + NODE.gapY),
  }
}
