import { expect, test } from './fixtures'
import { inStore, openView } from './views.shared'

test.use({ serverArgs: ['--no-demo', '--local-agents', '0'] })

test('100,000 tasks: the list renders only what is seen, scrolls end to end, filters fast', async ({ page, app }) => {
  await openView(page, app, 'tasks')
  await page.locator('[data-testid="task-limit"]').selectOption('100000')

  // A synthetic store of 100,000 tasks (a third of them finished), as a snapshot of this server.
  const built = await inStore(
    page,
    'swarm',
    (swarm: { lastSeq: number; metrics: unknown[]; applySnapshot(s: unknown): void }, n: number) => {
      const statuses = ['queued', 'running', 'succeeded'] as const
      const now = Date.now()
      const tasks = []
      for (let i = 0; i < n; i++) {
        const status = statuses[i % 3]!
        tasks.push({
          id: `syn-${i}`,
          name: `synthetic ${i}`,
          kind: 'batch',
          payload: {},
          priority: 0,
          capabilities: [],
          status,
          agentId: null,
          attempts: status === 'queued' ? 0 : 1,
          requeues: 0,
          maxRetries: 0,
          timeoutMs: null,
          progress: status === 'running' ? 0.5 : 0,
          createdAt: now - (n - i) * 10,
          updatedAt: now,
          startedAt: status === 'queued' ? null : now - 5,
          finishedAt: status === 'succeeded' ? now : null,
          result: null,
          error: null,
        })
      }
      const started = performance.now()
      const history = swarm.metrics.slice()
      swarm.applySnapshot({
        seq: swarm.lastSeq,
        agents: [],
        tasks,
        metrics: { current: history[history.length - 1], history },
        alerts: [],
      })
      return performance.now() - started
    },
    100_000,
  )
  test.info().annotations.push({ type: 'applySnapshot(100,000 tasks)', description: `${Math.round(built)} ms` })

  await expect(page.locator('[data-testid="tasks-count"]')).toHaveText('100,000')
  const list = page.locator('[data-testid="task-list"]')
  await expect(page.locator('[data-testid="task-row"]').first()).toHaveAttribute('data-task-id', 'syn-99999')
  expect(Number(await list.getAttribute('data-rendered'))).toBeLessThan(80)

  // Scroll from top to bottom in 40 steps, one per frame, watching for long main-thread tasks.
  const longest = await page.evaluate(async () => {
    const durations: number[] = []
    const observer = new PerformanceObserver((entries) => {
      for (const entry of entries.getEntries()) durations.push(entry.duration)
    })
    observer.observe({ type: 'longtask' })
    const scroller = document.querySelector('[data-testid="task-list"]')!.parentElement!
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve))
    for (let step = 1; step <= 40; step++) {
      scroller.scrollTop = (scroller.scrollHeight * step) / 40
      await frame()
      await frame()
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    observer.disconnect()
    return Math.max(0, ...durations)
  })
  test.info().annotations.push({ type: 'longest task while scrolling', description: `${Math.round(longest)} ms` })
  await expect(page.locator('[data-testid="task-row"][data-task-id="syn-0"]')).toBeVisible()
  expect(Number(await list.getAttribute('data-rendered'))).toBeLessThan(80)
  // Virtualization is proved by the rendered-row count above. How long frames take is a speed
  // figure, not a pass/fail here: it swings with whatever else the 2 cores run (40-90 ms idle,
  // 450 ms seen under a concurrent benchmark). The 50 ms target is measured by
  // bench/renderer-longtasks.ts and recorded in docs/performance.md; this run's figure is printed.
  process.stdout.write(`100,000-row scroll: longest main-thread task ${Math.round(longest)} ms\n`)

  // A filter over 100,000 tasks answers at once.
  await page.locator('#task-text').fill('synthetic 99999')
  await expect(page.locator('[data-testid="task-row"]')).toHaveCount(1)
  await page.locator('#task-text').fill('')
  await page.locator('#task-status').selectOption('succeeded')
  await expect(page.locator('[data-testid="tasks-count"]')).toHaveText('33,333 of 100,000')
  await expect(page.locator('[data-testid="task-row"]').first()).toHaveAttribute('data-status', 'succeeded')
})
