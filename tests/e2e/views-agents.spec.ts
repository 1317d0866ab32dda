import { expect, test } from './fixtures'
import { openView } from './views.shared'

test('agents: filters narrow and sort the table, pause and resume from the row and the detail; logs filter and pause', async ({
  page,
  app,
  consoleErrors,
}) => {
  await openView(page, app, 'agents')
  const rows = page.locator('[data-testid="agent-row"]')
  await expect(rows).toHaveCount(8)

  await page.locator('#agent-capability').selectOption('gpu')
  await expect(rows).toHaveCount(2)
  for (const row of await rows.all()) await expect(row.locator('.tag', { hasText: 'gpu' })).toHaveCount(1)
  await page.locator('#agent-capability').selectOption('')
  await page.locator('#agent-text').fill('ant')
  await expect(rows).toHaveCount(1)
  await page.locator('#agent-text').fill('')

  await page.locator('[data-sort="name"]').click()
  await expect(page.locator('th', { has: page.locator('[data-sort="name"]') })).toHaveAttribute(
    'aria-sort',
    'descending',
  )
  await expect(rows.first()).toHaveAttribute('data-agent-id', 'demo-03') // wasp-03, last by name
  await page.locator('[data-sort="name"]').click()
  await expect(rows.first()).toHaveAttribute('data-agent-id', 'demo-01') // ant-01

  // Pause and resume from the row: the row's data-status follows.
  const row = page.locator('[data-testid="agent-row"][data-agent-id="demo-01"]')
  await row.getByRole('button', { name: 'Pause ant-01' }).click()
  await expect(row).toHaveAttribute('data-status', 'paused')
  await page.locator('#agent-status').selectOption('paused')
  await expect(rows).toHaveCount(1)
  await page.locator('#agent-status').selectOption('all')
  await row.getByRole('button', { name: 'Resume ant-01' }).click()
  await expect(row).not.toHaveAttribute('data-status', 'paused')

  // The detail: heartbeat, resources, recent tasks; pause from there too.
  await page.locator('[data-testid="agent-row"][data-agent-id="demo-02"] button.link').click()
  const drawer = page.locator('[data-testid="agent-drawer"]')
  await expect(drawer).toContainText('bee-02')
  await expect(drawer.locator('[data-testid="agent-heartbeat"]')).toContainText(/ago|just now/)
  await expect(drawer.locator('[data-testid="agent-kinds"]')).toHaveText('any kind')
  await expect(drawer.getByRole('img', { name: /CPU use/ })).toBeVisible()
  await drawer.locator('[data-action="pause"]').click()
  await expect(page.locator('[data-testid="agent-row"][data-agent-id="demo-02"]')).toHaveAttribute(
    'data-status',
    'paused',
  )
  await drawer.locator('[data-action="resume"]').click()
  await expect(page.locator('[data-testid="agent-row"][data-agent-id="demo-02"]')).not.toHaveAttribute(
    'data-status',
    'paused',
  )
  await page.keyboard.press('Escape')
  await expect(drawer).toHaveCount(0)

  // Logs: live lines from the swarm; the level and source filters narrow them; pause holds the view.
  await page.locator('nav [data-view="logs"]').click()
  const lines = page.locator('[data-testid="log-line"]')
  await expect(lines.first()).toBeVisible({ timeout: 15_000 })
  await page.locator('[data-level="error"][aria-pressed]').click()
  await expect(page.locator('[data-testid="log-line"][data-level="error"]')).toHaveCount(0)
  await page.locator('#log-source').selectOption('demo-04')
  await expect(lines.first()).toBeVisible({ timeout: 15_000 })
  expect(await lines.evaluateAll((els) => els.every((el) => el.getAttribute('data-agent-id') === 'demo-04'))).toBe(true)
  await page.locator('#log-source').selectOption('')
  await page.locator('#log-text').fill('started')
  await expect(lines.first()).toContainText('started')

  const follow = page.locator('[data-testid="log-follow"]')
  await follow.click()
  await expect(follow).toHaveAttribute('data-paused', 'true')
  const held = await page.locator('[data-testid="logs-count"]').textContent()
  await expect(follow).toContainText(/Resume \(\d+ new\)/, { timeout: 15_000 })
  expect(await page.locator('[data-testid="logs-count"]').textContent()).toBe(held)
  await follow.click()
  await expect(follow).toHaveAttribute('data-paused', 'false')
  expect(consoleErrors).toEqual([])
})
