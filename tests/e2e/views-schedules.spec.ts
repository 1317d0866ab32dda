/**
 * The Schedules section of the Workflows view: empty at first; the create
 * form shows the next five run times (the server's preview) and the preview's
 * error for a bad cron; a saved schedule is listed with its next run; "Run
 * now" makes a run whose outcome follows its task (a local agent runs it);
 * pause and delete; a viewer sees the list without the buttons, and an
 * operator's change in it without reloading (pushed, not polled).
 */
import type { Page } from '@playwright/test'
import { expect, snap, test, TEST_TOKENS, type AppServer } from './fixtures'
import { SHOTS, seriousViolations } from './views.shared'

test.use({ serverArgs: ['--demo-agents', '0', '--local-agents', '1'] })

async function openSchedules(page: Page, app: AppServer, token = TEST_TOKENS.operator): Promise<void> {
  await page.goto(`${app.url}/#view=workflows&token=${token}`)
  await expect(page.locator('[data-testid="connection-indicator"]')).toHaveAttribute('data-state', 'connected')
  await page.locator('[data-testid="section-schedules"]').click()
  await expect(page.locator('[data-testid="schedules"]')).toBeVisible()
}

test('schedules: preview before saving, run now, pause, delete; viewers read', async ({ page, app, consoleErrors }) => {
  await openSchedules(page, app)
  await expect(page.locator('[data-testid="schedules-empty"]')).toContainText('No schedules')

  await page.locator('[data-testid="schedule-new"]').click()
  const preview = page.locator('[data-testid="schedule-preview"]')
  await page.locator('[data-testid="schedule-cron"]').fill('*/10 * * * * *')
  await expect(preview).toContainText('more than once a minute')
  await page.locator('[data-testid="schedule-cron"]').fill('30 6 * * 1-5')
  await page.locator('[data-testid="schedule-tz"]').fill('Europe/Paris')
  await expect(preview.locator('li')).toHaveCount(5)
  await expect(preview.locator('li').first()).toContainText('06:30')

  // Refused by the server, naming the field; nothing is listed.
  await page.locator('[data-testid="schedule-save"]').click()
  await expect(page.locator('[data-testid="schedule-notice"]')).toContainText('name')
  await expect(page.locator('[data-testid="schedule-row"]')).toHaveCount(0)

  await page.locator('[data-testid="schedule-name"]').fill('morning report')
  await page.locator('[data-testid="schedule-payload"]').fill('{ "command": "echo report" }')
  await page.locator('[data-testid="schedule-save"]').click()
  const row = page.locator('[data-testid="schedule-row"]')
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('morning report')
  await expect(row.locator('[data-testid="schedule-next"]')).toContainText('06:30')

  // A second one through the API, paused: the list shows both.
  const created = await page.request.post(`${app.url}/api/schedules`, {
    headers: { Authorization: `Bearer ${TEST_TOKENS.operator}` },
    data: {
      name: 'nightly cleanup',
      cron: '0 3 * * *',
      timezone: 'UTC',
      overlap: 'queue',
      workflow: { name: 'cleanup', tasks: [{ key: 'a', name: 'prune', kind: 'shell', payload: { command: 'true' } }] },
    },
  })
  expect(created.status(), await created.text()).toBe(201)

  const report = row.filter({ hasText: 'morning report' })
  await report.locator('[data-testid="schedule-run"]').click()
  await expect(report.locator('[data-testid="schedule-outcome"]')).toContainText('succeeded', { timeout: 15_000 })

  // Created elsewhere (the API), pushed to this page: no reload, no polling.
  const cleanup = page.locator('[data-testid="schedule-row"]', { hasText: 'nightly cleanup' })
  await expect(cleanup).toHaveCount(1, { timeout: 2000 })
  await cleanup.locator('[data-testid="schedule-pause"]').click()
  await expect(cleanup).toHaveAttribute('data-paused', 'true')
  await expect(cleanup.locator('[data-testid="schedule-next"]')).toHaveText('paused')

  await page.locator('[data-testid="schedule-new"]').click()
  await page.locator('[data-testid="schedule-name"]').fill('weekly digest')
  await page.locator('[data-testid="schedule-cron"]').fill('0 9 * * 1')
  await expect(preview.locator('li')).toHaveCount(5)
  await page.waitForTimeout(300)
  await snap(page, `${SHOTS}/schedules.png`)
  expect(await seriousViolations(page)).toEqual([])
  await page.getByRole('button', { name: 'Cancel', exact: true }).click()

  // At 1024 px the list fits without scrolling sideways.
  await page.setViewportSize({ width: 1024, height: 768 })
  const fits = await page
    .locator('[data-testid="schedules"]')
    .evaluate((element) => element.scrollWidth <= element.clientWidth)
  expect(fits).toBe(true)
  await snap(page, `${SHOTS}/schedules-1024.png`)

  await cleanup.locator('[data-testid="schedule-delete"]').click()
  await page.getByRole('button', { name: 'Delete schedule' }).click()
  await expect(page.locator('[data-testid="schedule-row"]')).toHaveCount(1)
  // The preview of the bad cron was answered 400, which Chromium logs; nothing else may be.
  expect(consoleErrors.filter((text) => !text.includes('status of 400'))).toEqual([])

  // A viewer reads the list, with no buttons.
  const viewer = await page.context().newPage()
  await openSchedules(viewer, app, TEST_TOKENS.viewer)
  await expect(viewer.locator('[data-testid="schedule-row"]')).toHaveCount(1)
  await expect(viewer.locator('[data-testid="schedule-run"]')).toHaveCount(0)
  await expect(viewer.locator('[data-testid="schedule-new"]')).toHaveCount(0)
  // The operator pauses it: the viewer's page shows it within 2 s, without reloading.
  await viewer.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true))
  await report.locator('[data-testid="schedule-pause"]').click()
  const viewerRow = viewer.locator('[data-testid="schedule-row"]', { hasText: 'morning report' })
  await expect(viewerRow).toHaveAttribute('data-paused', 'true', { timeout: 2000 })
  await expect(viewerRow.locator('[data-testid="schedule-next"]')).toHaveText('paused')
  expect(await viewer.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true)
})
