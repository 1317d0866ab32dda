/** The Workflows graph's layout (dagre): each task right of what it depends on, none overlapping, edges side to side. */
import { describe, expect, it } from 'vitest'
import { NODE, layoutWorkflow, type Layout, type LayoutNode } from '../../../src/renderer/src/workflow-layout'

const n = (key: string, ...dependsOn: string[]): LayoutNode => ({ key, dependsOn })

/** Every rule the view relies on, for any workflow. */
function expectSound(layout: Layout, nodes: readonly LayoutNode[]): void {
  expect(layout.nodes.size).toBe(nodes.length)
  const boxes = [...layout.nodes.values()]
  for (const box of boxes) {
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.y).toBeGreaterThanOrEqual(0)
    expect(box.x + NODE.width).toBeLessThanOrEqual(layout.width + 0.5)
    expect(box.y + NODE.height).toBeLessThanOrEqual(layout.height + 0.5)
  }
  // No two tasks overlap.
  const sorted = boxes.sort((a, b) => a.x - b.x || a.y - b.y)
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.x < sorted[i]!.x + NODE.width; j++) {
      const [a, b] = [sorted[i]!, sorted[j]!]
      const apart = a.y + NODE.height <= b.y || b.y + NODE.height <= a.y
      expect(apart, `${a.key} and ${b.key} overlap`).toBe(true)
    }
  }
  for (const node of nodes) {
    const to = layout.nodes.get(node.key)!
    for (const key of node.dependsOn) {
      const from = layout.nodes.get(key)!
      expect(from.x + NODE.width, `${key} left of ${node.key}`).toBeLessThanOrEqual(to.x)
      const edge = layout.edges.find((e) => e.from === key && e.to === node.key)!
      expect(edge.path.startsWith(`M${from.x + NODE.width},${from.y + NODE.height / 2}`)).toBe(true)
      expect(edge.path.endsWith(`L${to.x},${to.y + NODE.height / 2}`)).toBe(true)
    }
  }
  expect(layout.edges).toHaveLength(nodes.reduce((sum, node) => sum + node.dependsOn.length, 0))
}

describe('layoutWorkflow', () => {
  it('puts each task right of what it depends on, in columns, with an edge for each dependency', () => {
    const nodes = [n('build'), n('test', 'build'), n('lint', 'build'), n('deploy', 'test', 'lint'), n('docs')]
    const layout = layoutWorkflow(nodes)
    expectSound(layout, nodes)
    const x = (key: string) => layout.nodes.get(key)!.x
    expect(x('test')).toBe(x('lint'))
    expect(x('build')).toBeLessThan(x('test'))
    expect(x('test')).toBeLessThan(x('deploy'))
    expect(layout.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual([
      'build>lint',
      'build>test',
      'lint>deploy',
      'test>deploy',
    ])
  })

  it('routes an edge that skips columns through bend points, still from side to side', () => {
    const nodes = [n('a'), n('b', 'a'), n('c', 'b'), n('d', 'a', 'c')]
    const layout = layoutWorkflow(nodes)
    expectSound(layout, nodes)
    expect(layout.edges.find((e) => e.from === 'a' && e.to === 'd')!.path).toContain('Q')
  })

  it('keeps parallel chains apart and straight', () => {
    const nodes = [n('a1'), n('b1'), n('b2', 'b1'), n('a2', 'a1'), n('b3', 'b2'), n('a3', 'a2')]
    const layout = layoutWorkflow(nodes)
    expectSound(layout, nodes)
    const y = (key: string) => layout.nodes.get(key)!.y
    expect(new Set([y('a1'), y('a2'), y('a3')]).size).toBe(1)
    expect(new Set([y('b1'), y('b2'), y('b3')]).size).toBe(1)
    expect(y('a1')).not.toBe(y('b1'))
  })

  it('lays out 500 tasks soundly, and an empty workflow as nothing', () => {
    const nodes = Array.from({ length: 500 }, (_, i) => n(`k${i}`, ...(i < 10 ? [] : [`k${i - 10}`, `k${i - 7}`])))
    expectSound(layoutWorkflow(nodes), nodes)
    expect(layoutWorkflow([])).toMatchObject({ edges: [], width: 0, height: 0 })
  })
})
