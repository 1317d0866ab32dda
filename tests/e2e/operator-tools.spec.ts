/**
 * The operator's tools in Chromium: the Audit section (who did what, filters,
 * operators only), a saved view and a deep link (filters, search and sort in
 * the URL; saved on the server, picked from the picker, read by viewers),
 * and the Overview's chart ranges (5 min to 7 d, surviving a restart) with
 * drag-to-zoom. Screenshots go to docs/screenshots with SCREENSHOTS=docs.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { MetricsSample } from '../../src/shared/domain'
import { expect, snap, test, TEST_TOKENS } from './fixtures'
import { openView, seriousViolations, SHOTS, submitTask } from './views.shared'

test.use({ serverArgs: ['--demo-agents', '4', '--demo-rate', '2', '--local-agents', '0'] })

test('audit: operator actions and refused tokens are listed, filtered, and hidden from viewers', async ({
  page,
  app,
  consoleErrors,
}) => {
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` })
  const task = await submitTask(page, app, { name: 'audited', kind: 'nobody-runs-this', capabilities: ['none'] })
  expect(
    (
      await page.request.post(`${app.url}/api/tasks/${task.id}/cancel`, { headers: auth(TEST_TOKENS.operator) })
    ).status(),
  ).toBe(200)
  expect((await page.request.get(`${app.url}/api/snapshot`, { headers: auth('not-a-token-at-all') })).status()).toBe(
    401,
  )
  expect(
    (await page.request.post(`${app.url}/api/tasks`, { headers: auth(TEST_TOKENS.viewer), data: {} })).status(),
  ).toBe(403)

  await openView(page, app, 'agents')
  // An action from the page itself, over the socket: pause the first agent.
  const firstAgent = page.locator('[data-testid="agent-row"]').first()
  await firstAgent.locator('[data-action="pause"]').click()
  await expect(firstAgent.locator('[data-action="resume"]')).toBeVisible()

  await page.locator('.tab[data-view="audit"]').click()
  const rows = page.locator('[data-testid="audit-row"]')
  await expect(rows.filter({ has: page.locator('text=agent:pause') })).toHaveCount(1)
  await expect(page.locator('[data-testid="audit-row"][data-action="task:submit"][data-outcome="ok"]')).toHaveCount(1)
  await expect(page.locator('[data-testid="audit-row"][data-action="task:cancel"][data-actor="operator"]')).toHaveCount(
    1,
  )
  await expect(page.locator('[data-testid="audit-row"][data-action="auth"]')).toHaveCount(2)
  await expect(page.locator('[data-testid="audit-row"][data-action="auth"][data-actor="viewer"]')).toContainText(
    'forbidden',
  )
  await expect(page.locator('[data-testid="audit-row"][data-action="agent:pause"]')).toContainText('socket')
  await snap(page, `${SHOTS}/view-audit-light.png`)

  await page.locator('[data-testid="audit-outcome"]').selectOption('refused')
  await expect(rows).toHaveCount(2)
  await page.locator('[data-testid="audit-outcome"]').selectOption('')
  await page.locator('[data-testid="audit-actor"]').fill('viewer')
  await expect(rows).toHaveCount(1)
  await page.locator('[data-testid="audit-actor"]').fill('')
  await page.locator('[data-testid="audit-action"]').selectOption('task:submit')
  await expect(rows).toHaveCount(1)
  // The task's id opens it.
  await rows.first().locator('.link').click()
  await expect(page.locator('[data-testid="task-drawer"]')).toContainText('audited')
  await page.keyboard.press('Escape')
  expect(await seriousViolations(page, undefined, '.audit-view')).toEqual([])

  // A viewer has no Audit tab, and a link to it says why.
  await page.goto(`${app.url}/#view=audit&token=${TEST_TOKENS.viewer}`)
  await expect(page.locator('[data-testid="audit-operators-only"]')).toBeVisible()
  await expect(page.locator('.tab[data-view="audit"]')).toHaveCount(0)
  expect(consoleErrors).toEqual([])
})

test('saved views and deep links: filters in the URL, saved under a name, picked, shared, deleted', async ({
  page,
  context,
  app,
  consoleErrors,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url })
  for (let i = 0; i < 3; i++)
    await submitTask(page, app, { name: `stuck report ${i}`, kind: 'report', capabilities: ['none'] })
  await openView(page, app, 'tasks')
  await page.locator('#task-status').selectOption('queued')
  await page.locator('#task-text').fill('stuck')
  await expect(page.locator('[data-testid="task-row"]')).toHaveCount(3)
  const hash = () => new URLSearchParams(new URL(page.url()).hash.slice(1))
  await expect.poll(() => hash().get('tasks.q')).toBe('stuck')
  expect(hash().get('tasks.status')).toBe('queued')

  // Save it; the picker names it while it is what is shown.
  await page.locator('[data-testid="saved-view-save"]').click()
  await page.locator('[data-testid="saved-view-name"]').fill('Stuck reports')
  await page.locator('[data-testid="saved-view-confirm"]').click()
  await expect(page.locator('[data-testid="saved-view-notice"]')).toContainText('Saved “Stuck reports”')
  const picker = page.locator('[data-testid="saved-view-select"]')
  await expect(picker.locator('option:checked')).toHaveText('Stuck reports')
  await snap(page, `${SHOTS}/saved-views.png`)

  // Copy link: the URL of what is shown, without the token.
  await page.locator('[data-testid="copy-link"]').click()
  await expect(page.locator('[data-testid="saved-view-notice"]')).toContainText('without your token')
  const link = await page.evaluate(() => navigator.clipboard.readText())
  expect(link).toContain('tasks.q=stuck')
  expect(link).not.toContain(TEST_TOKENS.operator)

  // The deep link, opened fresh by a viewer: the same filters, the same rows, the saved view named.
  const other = await context.newPage()
  await other.goto(`${link}&token=${TEST_TOKENS.viewer}`)
  await expect(other.locator('#task-status')).toHaveValue('queued')
  await expect(other.locator('#task-text')).toHaveValue('stuck')
  await expect(other.locator('[data-testid="task-row"]')).toHaveCount(3)
  await expect(other.locator('[data-testid="saved-view-select"] option:checked')).toHaveText('Stuck reports')
  await expect(other.locator('[data-testid="saved-view-save"]')).toHaveCount(0)
  await other.close()

  // Other filters: the picker lets go; picking the view brings its filters back.
  await page.locator('#task-status').selectOption('all')
  await page.locator('#task-text').fill('')
  await expect(picker).toHaveValue('')
  await picker.selectOption({ label: 'Stuck reports' })
  await expect(page.locator('#task-status')).toHaveValue('queued')
  await expect(page.locator('#task-text')).toHaveValue('stuck')

  // Agents: the sort is in the link too, and survives a reload.
  await page.locator('.tab[data-view="agents"]').click()
  await page.locator('[data-sort="done"]').click()
  await expect.poll(() => hash().get('agents.sort')).toBe('-done')
  expect(hash().get('tasks.q')).toBeNull()
  await page.reload()
  await expect(page.locator('th[aria-sort="descending"]')).toContainText('Done')
  // Logs: the levels shown.
  await page.locator('.tab[data-view="logs"]').click()
  await page.locator('[data-level="debug"]').first().click()
  await expect.poll(() => hash().get('logs.levels')).toBe('info,warn,error')
  // Back: the agents view as it was.
  await page.goBack()
  await expect(page.locator('.layout[data-view="agents"]')).toBeVisible()

  // Delete asks first, and the view goes for everyone.
  await page.goto(`${app.url}/#view=tasks&tasks.status=queued&tasks.q=stuck&token=${TEST_TOKENS.operator}`)
  await expect(picker.locator('option:checked')).toHaveText('Stuck reports')
  await page.locator('[data-testid="saved-view-delete"]').click()
  await page.locator('[data-testid="confirm-ok"]').click()
  await expect(page.locator('[data-testid="saved-view-notice"]')).toContainText('Deleted')
  await expect(picker.locator('option')).toHaveCount(1)
  expect(consoleErrors).toEqual([])
})

/**
 * What a server that ran for the last two days would have stored (the
 * metric_samples table: one-second samples for the last hour, one a minute
 * before), with a daily rhythm, so the long ranges have something to draw.
 */
function seedSamples(file: string, until: number): void {
  const db = new Database(file)
  const insert = db.prepare('INSERT OR REPLACE INTO metric_samples (step_ms, at, data) VALUES (?, ?, ?)')
  let succeeded = 0
  let failed = 0
  const sample = (at: number, stepS: number): MetricsSample => {
    const wave = Math.sin((at / 86_400_000) * 2 * Math.PI)
    const rate = 1.5 + wave + 0.3 * Math.sin(at / 600_000)
    succeeded += Math.round(rate * stepS * 0.95)
    failed += Math.round(rate * stepS * 0.05)
    return {
      at,
      agents: { idle: 1, busy: 3, paused: 0, error: 0, offline: 0 },
      queued: Math.max(0, Math.round(6 + 6 * wave + 3 * Math.sin(at / 900_000))),
      running: 3,
      succeeded,
      failed,
      throughput: Math.round(rate * 100) / 100,
      durationP50Ms: Math.round(1800 + 400 * wave),
      durationP95Ms: Math.round(4200 + 900 * wave),
    }
  }
  db.transaction(() => {
    const minute = 60_000
    for (let at = Math.floor((until - 2 * 86_400_000) / minute) * minute; at < until; at += minute) {
      insert.run(minute, at, JSON.stringify(sample(at, 60)))
    }
    for (let at = Math.floor((until - 3_600_000) / 1000) * 1000; at < until; at += 1000) {
      insert.run(1000, at, JSON.stringify(sample(at, 1)))
    }
  })()
  db.close()
}

test('charts: 5 min to 7 d from stored samples that survive a restart; drag to zoom, double-click back', async ({
  page,
  app,
  consoleErrors,
}) => {
  // Samples before a restart: the server writes them every 10 s and at stop; and two days' worth before that.
  await page.waitForTimeout(2000)
  await app.stop()
  const restartedAt = Date.now()
  seedSamples(join(app.dataDir, 'swarm.db'), restartedAt - 5000)
  await app.start()
  await openView(page, app, 'overview')
  const throughput = page.locator('[data-testid="throughput-chart"]')
  const xMin = async () => Number(await throughput.getAttribute('data-x-min'))
  const xMax = async () => Number(await throughput.getAttribute('data-x-max'))

  await page.locator('[data-window="5m"]').click()
  // The samples from before the restart are drawn: more points than seconds since it.
  await expect
    .poll(async () => Number(await throughput.getAttribute('data-points')))
    .toBeGreaterThan(Math.ceil((Date.now() - restartedAt) / 1000) + 1)
  // Each range spans what it says, ends now, and draws the stored samples at its step (1 h: 5 s, 24 h: 1 min, 7 d: 10 min).
  for (const [range, spanMs, points] of [
    ['1h', 3_600_000, 600],
    ['24h', 86_400_000, 1400],
    ['7d', 7 * 86_400_000, 280],
  ] as const) {
    await page.locator(`[data-window="${range}"]`).click()
    await expect(page.locator(`[data-window="${range}"]`)).toHaveAttribute('aria-pressed', 'true')
    await expect.poll(async () => Number(await throughput.getAttribute('data-points'))).toBeGreaterThan(points)
    await expect.poll(async () => (await xMax()) - (await xMin())).toBeGreaterThan(spanMs * 0.99)
    expect((await xMax()) - (await xMin())).toBeLessThan(spanMs * 1.01)
    expect(Math.abs((await xMax()) - Date.now())).toBeLessThan(15 * 60_000)
  }
  await page.locator('[data-window="24h"]').click()
  await expect.poll(async () => Number(await throughput.getAttribute('data-points'))).toBeGreaterThan(1400)
  await snap(page, `${SHOTS}/charts-24h.png`)

  // Zoom: drag across the last part of the 5 min chart; every chart follows.
  await page.locator('[data-window="5m"]').click()
  const plot = throughput.locator('.plot')
  const box = (await plot.boundingBox())!
  const y = box.y + box.height / 2
  await page.mouse.move(box.x + box.width * 0.55, y)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width * 0.75, y, { steps: 8 })
  await page.mouse.move(box.x + box.width * 0.95, y, { steps: 8 })
  await page.mouse.up()
  await expect(page.locator('[data-testid="chart-zoom"]')).toBeVisible()
  for (const chart of ['throughput-chart', 'queue-chart', 'duration-chart']) {
    await expect(page.locator(`[data-testid="${chart}"]`)).toHaveAttribute('data-zoomed', 'true')
  }
  await expect.poll(async () => (await xMax()) - (await xMin())).toBeLessThan(5 * 60_000 * 0.5)
  await snap(page, `${SHOTS}/charts-zoomed.png`)
  await plot.dblclick()
  await expect(page.locator('[data-testid="chart-zoom"]')).toHaveCount(0)
  await expect.poll(async () => (await xMax()) - (await xMin())).toBeGreaterThan(5 * 60_000 * 0.99)
  expect(consoleErrors).toEqual([])
})
