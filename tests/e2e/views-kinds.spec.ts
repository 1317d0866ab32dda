/**
 * The Queues section of the Tasks view: each task kind with its queued and
 * running tasks; an operator pauses a kind (its new task stays queued, the
 * drawer says why), sets a limit and resumes it (the task runs); a bad limit
 * is refused in place; viewers read, with no controls; it fits at 1024 px.
 * A second page sees an operator's limit change within 2 s without
 * reloading, and the hold in a queued task's drawer comes and goes with it.
 */
import { expect, snap, test, TEST_TOKENS } from './fixtures'
import { openView, seriousViolations, SHOTS, submitTask } from './views.shared'

test.use({ serverArgs: ['--no-demo', '--local-agents', '1'] })

test('queues: pause a kind, its task waits and says why; a limit saved; resume runs it; viewers only read', async ({
  page,
  app,
  consoleErrors,
}) => {
  await openView(page, app, 'tasks')
  const queues = page.locator('[data-testid="kind-queues"]')
  await page.locator('[data-testid="queues-toggle"]').click()
  await expect(page.locator('[data-testid="kinds-empty"]')).toContainText('No task kinds yet')

  // Reports nobody runs (no agent offers gpu) and a shell task the local agent runs.
  for (let i = 1; i <= 3; i++)
    await submitTask(page, app, { name: `report ${i}`, kind: 'report', capabilities: ['gpu'] })
  await submitTask(page, app, { name: 'first', kind: 'shell', payload: { command: 'true' } })
  const kindRow = (kind: string) => queues.locator(`[data-testid="kind-row"][data-kind="${kind}"]`)
  await expect(kindRow('report').locator('[data-testid="kind-queued"]')).toHaveText('3')
  await expect(kindRow('shell')).toBeVisible()

  // Paused: the next shell task stays queued, and its drawer says which limit holds it.
  await kindRow('shell').locator('[data-testid="kind-pause"]').click()
  await expect(kindRow('shell').locator('[data-testid="kind-pause"]')).toHaveText('Resume')
  await expect(kindRow('shell').locator('[data-testid="kind-held"]')).toHaveText('kind shell is paused')
  const held = await submitTask(page, app, { name: 'held back', kind: 'shell', payload: { command: 'true' } })
  await expect(kindRow('shell').locator('[data-testid="kind-queued"]')).toHaveText('1')
  const heldRow = page.locator('[data-testid="task-row"]', { hasText: 'held back' })
  await heldRow.locator('[data-row-focus]').click()
  await expect(page.locator('[data-testid="task-drawer-held"]')).toContainText('Held: kind shell is paused')
  await page.keyboard.press('Escape')

  // A bad limit is refused where it was typed; a good one is saved.
  const maxRunning = kindRow('shell').locator('[data-testid="kind-max-running"]')
  await maxRunning.fill('0')
  await kindRow('shell').locator('[data-testid="kind-save"]').click()
  await expect(page.locator('[data-testid="kind-notice"]')).toContainText('Max running of shell: a whole number')
  await maxRunning.fill('2')
  await kindRow('report').locator('[data-testid="kind-max-per-minute"]').fill('10')
  await kindRow('report').locator('[data-testid="kind-save"]').click()
  await expect(page.locator('[data-testid="kind-notice"]')).toHaveText('Limits saved: report')
  await kindRow('shell').locator('[data-testid="kind-save"]').click()
  await expect(page.locator('[data-testid="kind-notice"]')).toHaveText('Limits saved: shell')
  await expect(maxRunning).toHaveValue('2')

  await page.setViewportSize({ width: 1024, height: 768 })
  const body = page.locator('.queues-body')
  expect(await body.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true)
  expect(await seriousViolations(page, undefined, '[data-testid="kind-queues"]')).toEqual([])
  await snap(page, `${SHOTS}/kinds.png`)
  await page.setViewportSize({ width: 1440, height: 900 })

  // Resumed: the held task runs.
  await kindRow('shell').locator('[data-testid="kind-pause"]').click()
  await expect(heldRow).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 })
  await expect(kindRow('shell').locator('[data-testid="kind-held"]')).toHaveText('')
  expect(held.status).toBe('queued')
  expect(consoleErrors).toEqual([])

  // A viewer reads the limits, with no controls.
  await openView(page, app, 'tasks', TEST_TOKENS.viewer)
  // Only the fragment changed: the page (and the open section) may have stayed.
  const toggle = page.locator('[data-testid="queues-toggle"]')
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()
  await expect(kindRow('shell')).toContainText('running')
  await expect(kindRow('shell')).toContainText('2')
  await expect(kindRow('report')).toContainText('10')
  await expect(queues.locator('[data-testid="kind-pause"], [data-testid="kind-save"], input')).toHaveCount(0)
})

test('queues: another page sees a limit change within 2 s, without reloading', async ({ page, app, browser }) => {
  await submitTask(page, app, { name: 'waiting report', kind: 'report', capabilities: ['gpu'] })
  // A viewer in a browser of its own, its Queues open and a queued task's drawer open.
  const other = await (await browser.newContext()).newPage()
  await openView(other, app, 'tasks', TEST_TOKENS.viewer)
  await other.locator('[data-testid="queues-toggle"]').click()
  const otherRow = other.locator('[data-testid="kind-row"][data-kind="report"]')
  await expect(otherRow.locator('[data-testid="kind-held"]')).toHaveText('')
  await other.locator('[data-testid="task-row"]', { hasText: 'waiting report' }).locator('[data-row-focus]').click()
  await expect(other.locator('[data-testid="task-drawer-held"]')).toHaveCount(0)
  await other.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true))

  // The operator, on its own page, pauses the kind and sets a limit.
  await openView(page, app, 'tasks')
  await page.locator('[data-testid="queues-toggle"]').click()
  const row = page.locator('[data-testid="kind-row"][data-kind="report"]')
  await row.locator('[data-testid="kind-pause"]').click()
  await expect(otherRow.locator('[data-testid="kind-held"]')).toHaveText('kind report is paused', { timeout: 2000 })
  await expect(otherRow).toContainText('paused')
  await expect(other.locator('[data-testid="task-drawer-held"]')).toContainText('Held: kind report is paused', {
    timeout: 2000,
  })
  await row.locator('[data-testid="kind-max-running"]').fill('4')
  await row.locator('[data-testid="kind-save"]').click()
  await expect(otherRow).toContainText('4', { timeout: 2000 })

  // Resumed: the hold leaves the other page too.
  await row.locator('[data-testid="kind-pause"]').click()
  await expect(otherRow.locator('[data-testid="kind-held"]')).toHaveText('', { timeout: 2000 })
  await expect(other.locator('[data-testid="task-drawer-held"]')).toHaveCount(0, { timeout: 2000 })
  expect(await other.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true)
})
