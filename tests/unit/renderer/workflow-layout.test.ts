/** The Workflows graph's layering: each task right of what it depends on, near it in its column. */
import { describe, expect, it } from 'vitest'
import { NODE, layoutWorkflow } from '../../../src/renderer/src/workflow-layout'

const n = (key: string, ...dependsOn: string[]) => ({ key, dependsOn })

describe('layoutWorkflow', () => {
  it('puts each task one layer right of the furthest task it depends on', () => {
    const layout = layoutWorkflow([
      n('build'),
      n('test', 'build'),
      n('lint', 'build'),
      n('deploy', 'test', 'lint'),
      n('docs'),
    ])
    const layer = (key: string) => layout.nodes.get(key)!.layer
    expect([layer('build'), layer('docs'), layer('test'), layer('lint'), layer('deploy')]).toEqual([0, 0, 1, 1, 2])
    expect(layout.edges.map((e) => `${e.from}>${e.to}`)).toEqual([
      'build>test',
      'build>lint',
      'test>deploy',
      'lint>deploy',
    ])
    expect(layout.width).toBe(3 * NODE.width + 2 * NODE.gapX)
    expect(layout.height).toBe(2 * (NODE.height + NODE.gapY))
    const build = layout.nodes.get('build')!
    expect(layout.edges[0]!.path.startsWith(`M${build.x + NODE.width},${build.y + NODE.height / 2}`)).toBe(true)
  })

  it('runs an edge that skips layers along the lane between rows, not behind the tasks it passes', () => {
    const layout = layoutWorkflow([n('a'), n('b', 'a'), n('c', 'b'), n('d', 'a', 'c')])
    const skip = layout.edges.find((e) => e.from === 'a' && e.to === 'd')!
    const lane = layout.nodes.get('a')!.y + NODE.height + NODE.gapY / 2
    expect(skip.path).toContain(`L${layout.nodes.get('d')!.x - NODE.gapX / 2},${lane}`)
    // The tasks in between sit on row 0, above the lane.
    expect(layout.nodes.get('b')!.y + NODE.height).toBeLessThan(lane)
  })

  it('keeps a task in the row of what it depends on, so parallel chains run straight', () => {
    const layout = layoutWorkflow([n('a1'), n('b1'), n('b2', 'b1'), n('a2', 'a1'), n('b3', 'b2'), n('a3', 'a2')])
    const row = (key: string) => layout.nodes.get(key)!.row
    expect([row('a1'), row('a2'), row('a3')]).toEqual([0, 0, 0])
    expect([row('b1'), row('b2'), row('b3')]).toEqual([1, 1, 1])
  })

  it('lays out 500 tasks in a few milliseconds', () => {
    const nodes = Array.from({ length: 500 }, (_, i) => n(`k${i}`, ...(i < 10 ? [] : [`k${i - 10}`, `k${i - 7}`])))
    const started = performance.now()
    const layout = layoutWorkflow(nodes)
    expect(layout.nodes.size).toBe(500)
    expect(performance.now() - started).toBeLessThan(100)
  })
})
