/**
 * Bulk actions in the Tasks view: rows picked by checkbox, Shift-click and
 * Space; "all N matching" the filter; Cancel and Retry confirmed with the
 * count (the server's own count for a filter, from a dry run); a progress bar
 * while the server works; the outcome with what was skipped and why. Viewers
 * see none of it.
 */
import { expect, snap, test, TEST_TOKENS } from './fixtures'
import { openView, seriousViolations, SHOTS, submitTask } from './views.shared'

test.use({ serverArgs: ['--no-demo', '--local-agents', '0'] })

test('tasks: select rows or all matching, cancel and retry in bulk with the count confirmed, see what was skipped', async ({
  page,
  app,
  consoleErrors,
}) => {
  // Queued for good: no agent offers the capability.
  for (let i = 1; i <= 12; i++) {
    await submitTask(page, app, { name: `nightly build ${i}`, kind: 'build', capabilities: ['gpu'] })
  }
  for (let i = 1; i <= 3; i++) {
    await submitTask(page, app, { name: `weekly report ${i}`, kind: 'report', capabilities: ['gpu'] })
  }
  await openView(page, app, 'tasks')
  const rows = page.locator('[data-testid="task-row"]')
  await expect(rows).toHaveCount(15)
  const bar = page.locator('[data-testid="bulk-bar"]')
  const count = page.locator('[data-testid="bulk-count"]')
  const confirm = page.locator('[data-testid="confirm-dialog"]')
  const outcome = page.locator('[data-testid="bulk-outcome"]')
  const row = (name: string) =>
    page.locator('[data-testid="task-row"]').filter({ has: page.getByRole('button', { name, exact: true }) })
  await expect(bar).toHaveCount(0)

  // A click, then Shift-click: the range between them (the list is newest first).
  await row('nightly build 12').locator('[data-testid="row-select"]').click()
  await row('nightly build 9')
    .locator('[data-testid="row-select"]')
    .click({ modifiers: ['Shift'] })
  await expect(count).toHaveText('4 selected')
  // Space on a focused row toggles it too.
  await row('nightly build 8').locator('button.link').focus()
  await page.keyboard.press(' ')
  await expect(count).toHaveText('5 selected')
  await expect(row('nightly build 8')).toHaveAttribute('aria-selected', 'true')
  await expect(page.locator('[data-testid="task-drawer"]')).toHaveCount(0)

  // Cancel asks with the count; while the server works, a progress bar (its answer held back a little here).
  await page.route('**/api/tasks/bulk', async (route) => {
    const response = await route.fetch()
    await new Promise((resolve) => setTimeout(resolve, 800))
    await route.fulfill({ response })
  })
  await page.locator('[data-testid="bulk-cancel"]').click()
  await expect(confirm).toContainText('Cancel 5 tasks?')
  await expect(confirm).toContainText('5 will stop (on their agents) or leave the queue.')
  await page.locator('[data-testid="confirm-ok"]').click()
  await expect(page.locator('[data-testid="bulk-progress"]')).toBeVisible()
  await expect(bar).toContainText('Cancelling 0 of 5')
  await expect(outcome).toContainText('5 cancelled')
  await page.unroute('**/api/tasks/bulk')
  for (const n of [12, 11, 10, 9, 8])
    await expect(row(`nightly build ${n}`)).toHaveAttribute('data-status', 'cancelled')
  await expect(row('nightly build 7')).toHaveAttribute('data-status', 'queued')

  // All matching the filter: the server counts what it would change (the 7 still queued), and does it.
  await page.locator('#task-text').fill('nightly')
  await expect(rows).toHaveCount(12)
  await page.locator('[data-testid="select-all-rows"]').click()
  await expect(count).toHaveText('All 12 matching selected')
  await page.locator('[data-testid="bulk-cancel"]').click()
  await expect(confirm).toContainText('Cancel 7 tasks?')
  await page.locator('[data-testid="confirm-ok"]').click()
  await expect(outcome).toContainText('7 cancelled')
  await expect(page.locator('[data-testid="task-row"][data-status="queued"]')).toHaveCount(0)

  // Mixed: two cancelled builds and a queued report; Retry queues the builds and says why the report was skipped.
  await page.locator('#task-text').fill('')
  await expect(rows).toHaveCount(15)
  await row('weekly report 1').locator('[data-testid="row-select"]').click()
  await row('nightly build 1').locator('[data-testid="row-select"]').click()
  await row('nightly build 2').locator('[data-testid="row-select"]').click()
  await expect(count).toHaveText('3 selected')
  await page.locator('[data-testid="bulk-retry"]').click()
  await expect(confirm).toContainText('Retry 3 tasks?')
  await expect(confirm).toContainText('2 will be queued again, as a new attempt. 1 cannot be retried')
  await page.locator('[data-testid="confirm-ok"]').click()
  await expect(outcome).toContainText('2 queued again, 1 skipped')
  await outcome.locator('summary').click()
  await expect(page.locator('[data-testid="bulk-skipped"]')).toContainText(
    'weekly report 1: queued: only failed, cancelled or timed-out tasks are retried',
  )
  await expect(row('nightly build 1')).toHaveAttribute('data-status', 'queued')
  await expect(row('nightly build 2')).toHaveAttribute('data-status', 'queued')
  await row('nightly build 3').locator('[data-testid="row-select"]').click()
  await row('nightly build 5')
    .locator('[data-testid="row-select"]')
    .click({ modifiers: ['Shift'] })
  // Off the rows: a hovered row's faint "/1" is a contrast finding of its own, not this view's.
  await page.mouse.move(700, 880)
  expect(await seriousViolations(page, undefined, '.tasks-panel')).toEqual([])
  await snap(page, `${SHOTS}/tasks-bulk.png`)
  expect(consoleErrors).toEqual([])

  // Each action is one audit entry, with its counts (the dry run before "all matching" too).
  await page.locator('.tab[data-view="audit"]').click()
  const bulkEntries = page.locator('[data-testid="audit-row"][data-action="task:bulk"]')
  await expect(bulkEntries).toHaveCount(4)
  await expect(bulkEntries.filter({ hasText: 'cancel 5 ids' })).toContainText('matched 5, changed 5, skipped 0')
  await expect(bulkEntries.filter({ hasText: 'retry 3 ids' })).toContainText('matched 3, changed 2, skipped 1')
  await expect(bulkEntries.filter({ hasText: 'dry run' })).toContainText(
    'cancel filter status=queued,assigned,running text=nightly',
  )

  // A viewer sees no checkboxes and no bulk bar.
  await openView(page, app, 'tasks', TEST_TOKENS.viewer)
  await expect(rows).toHaveCount(15)
  await expect(page.locator('[data-testid="row-select"], [data-testid="select-all-rows"]')).toHaveCount(0)
  await expect(bar).toHaveCount(0)
})

test('tasks: a selection of more than 1,000 rows goes 1,000 ids a request, the bar counting them', async ({
  page,
  app,
  consoleErrors,
}) => {
  const TASKS = 1200
  for (let start = 0; start < TASKS; start += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        submitTask(page, app, { name: `batch ${start + i + 1}`, kind: 'batch', capabilities: ['gpu'] }),
      ),
    )
  }
  await openView(page, app, 'tasks')
  await expect(page.locator('[data-testid="tasks-count"]')).toHaveText('1,200')
  // The first row, then (scrolled to the end of the virtualized list) Shift on the last: all 1,200. By place, not
  // name: tasks submitted a hundred at once are not listed in the order of their names.
  const rowSelect = (row: 'first' | 'last') =>
    page.locator('[data-testid="task-row"]')[row]().locator('[data-testid="row-select"]')
  await rowSelect('first').click()
  await page.locator('.scroller').evaluate((el) => (el.scrollTop = el.scrollHeight))
  // The first hundred (submitted before the others) are the end of the list: shown once it has scrolled.
  await expect(page.getByRole('button', { name: /^batch ([1-9]|[1-9][0-9]|100)$/ }).first()).toBeVisible()
  await rowSelect('last').click({ modifiers: ['Shift'] })
  await expect(page.locator('[data-testid="bulk-count"]')).toHaveText('1,200 selected')

  // Each answer held back a little, so the steps can be seen.
  await page.route('**/api/tasks/bulk', async (route) => {
    const response = await route.fetch()
    await new Promise((resolve) => setTimeout(resolve, 600))
    await route.fulfill({ response })
  })
  const requests: number[] = []
  page.on('request', (request) => {
    if (request.url().endsWith('/api/tasks/bulk'))
      requests.push((request.postDataJSON() as { ids: string[] }).ids.length)
  })
  await page.locator('[data-testid="bulk-cancel"]').click()
  await expect(page.locator('[data-testid="confirm-dialog"]')).toContainText('Cancel 1,200 tasks?')
  await page.locator('[data-testid="confirm-ok"]').click()
  const bar = page.locator('[data-testid="bulk-bar"]')
  await expect(bar).toContainText('Cancelling 0 of 1,200')
  await expect(bar).toContainText('Cancelling 1,000 of 1,200')
  await expect(page.locator('[data-testid="bulk-progress"]')).toHaveAttribute('value', '1000')
  await expect(page.locator('[data-testid="bulk-outcome"]')).toContainText('1,200 cancelled')
  expect(requests).toEqual([1000, 200])
  await expect(page.locator('[data-testid="task-row"][data-status="queued"]')).toHaveCount(0)
  expect(consoleErrors).toEqual([])
})
