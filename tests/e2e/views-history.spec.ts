/**
 * The history in the dashboard: the Logs view shows stored lines from before
 * the page opened, reads earlier ones as the user scrolls back, narrows them
 * by words, task and level, and keeps following live; the Tasks view exports
 * its filter as a file.
 */
import { readFileSync } from 'node:fs'
import type { Page } from '@playwright/test'
import { expect, snap, test, TEST_TOKENS, type AppServer } from './fixtures'
import { openView, SHOTS, submitTask } from './views.shared'

test.use({ serverArgs: ['--demo-agents', '3', '--demo-rate', '1', '--local-agents', '1'] })

async function finished(page: Page, app: AppServer, id: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const response = await page.request.get(`${app.url}/api/tasks/${id}`, {
          headers: { Authorization: `Bearer ${TEST_TOKENS.viewer}` },
        })
        return ((await response.json()) as { status: string }).status
      },
      { timeout: 20_000 },
    )
    .toMatch(/succeeded|failed/)
}

test('logs: stored lines from before the page, scrolled back page by page, searched, then live again', async ({
  page,
  app,
  consoleErrors,
}) => {
  // Work done before anyone looks: 600 lines of a census, and a survey that fails.
  const census = await submitTask(page, app, {
    name: 'heron census',
    kind: 'shell',
    payload: { command: 'for i in $(seq 1 600); do echo "heron census line $i at the north lake"; done' },
  })
  const survey = await submitTask(page, app, {
    name: 'osprey survey',
    kind: 'shell',
    payload: { command: 'echo "osprey spotted near the dam"; echo "lost sight of the osprey" >&2; exit 3' },
  })
  await finished(page, app, census.id)
  await finished(page, app, survey.id)

  await openView(page, app, 'logs')
  const lines = page.locator('[data-testid="log-line"]')
  const stored = page.locator('[data-testid="log-line"][data-source="history"]')
  const edge = page.locator('[data-testid="log-history"]')
  await expect(stored.first()).toBeVisible()
  await expect(page.locator('[data-testid="logs-count"]')).toContainText('from the history')

  // Words: only the survey's lines, stored before the page opened.
  await page.locator('[data-testid="log-search"]').fill('osprey')
  await expect(lines).toHaveCount(2)
  await expect(lines.nth(1)).toHaveAttribute('data-level', 'warn')
  await expect(lines.nth(1)).toContainText('lost sight of the osprey')
  await page.locator('[data-testid="log-search"]').fill('')

  // One task: its newest 200 lines first; scrolling to the top reads the earlier ones until the start.
  await page.locator('[data-testid="log-task-filter"]').fill(census.id)
  await expect(lines.last()).toContainText('heron census line 600')
  await expect(page.locator('[data-testid="logs-count"]')).toContainText('200 lines')
  const scroller = page.locator('.logs-view .scroller')
  for (let i = 0; i < 10 && (await edge.getAttribute('data-state')) !== 'end'; i++) {
    await scroller.evaluate((el) => el.scrollBy(0, -el.scrollHeight))
    await page.waitForTimeout(150)
  }
  await expect(edge).toHaveAttribute('data-state', 'end')
  await expect(page.locator('[data-testid="logs-count"]')).toContainText('600 lines')
  await scroller.evaluate((el) => el.scrollTo(0, 0))
  await expect(lines.first()).toContainText('heron census line 1 at the north lake')
  await expect(edge).toContainText('Start of the stored history')
  await snap(page, `${SHOTS}/logs-history.png`)

  // Back to everything, following live: a task run now streams in at the bottom.
  await page.locator('[data-testid="log-task-filter"]').fill('')
  await page.locator('[data-testid="log-follow"]').click() // resume (scrolling up paused it)
  await expect(page.locator('[data-testid="log-follow"]')).toHaveAttribute('data-paused', 'false')
  await submitTask(page, app, { name: 'kestrel check', kind: 'shell', payload: { command: 'echo kestrel live now' } })
  await expect(
    page.locator('[data-testid="log-line"][data-source="live"]', { hasText: 'kestrel live now' }),
  ).toBeVisible()
  // Agent names in log text are the names the dashboard shows.
  await page.locator('[data-testid="log-search"]').fill('"started on"')
  await expect(lines.first()).toBeVisible({ timeout: 15_000 })
  const names = await page.locator('#log-source option').allTextContents()
  const started = (await lines.first().locator('.msg').textContent())!
  expect(names.some((name) => started.endsWith(`started on ${name}`))).toBe(true)
  await snap(page, `${SHOTS}/logs-search.png`)
  expect(consoleErrors).toEqual([])
})

test('tasks: export the current filter as CSV', async ({ page, app, consoleErrors }) => {
  const ok = await submitTask(page, app, { name: 'export me, "quoted"', kind: 'shell', payload: { command: 'true' } })
  const bad = await submitTask(page, app, { name: 'broken export', kind: 'shell', payload: { command: 'exit 1' } })
  await finished(page, app, ok.id)
  await finished(page, app, bad.id)
  await openView(page, app, 'tasks')
  await page.locator('#task-status').selectOption('succeeded')
  await page.locator('#task-text').fill('export')
  const download = page.waitForEvent('download')
  await page.locator('[data-testid="export-csv"]').click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/^swarm-tasks-.*\.csv$/)
  const text = readFileSync((await file.path())!, 'utf8')
  const rows = text.trimEnd().split('\r\n')
  expect(rows[0]).toMatch(/^id,name,kind,status,/)
  expect(rows).toHaveLength(2)
  expect(rows[1]).toContain(`${ok.id},"export me, ""quoted""",shell,succeeded`)
  await expect(page.locator('[data-testid="export-notice"]')).toContainText('Saved swarm-tasks-')
  await snap(page, `${SHOTS}/tasks-export.png`)

  // A text the history cannot search says so, and nothing is downloaded.
  await page.locator('#task-text').fill('***')
  await page.locator('[data-testid="export-jsonl"]').click()
  await expect(page.locator('[data-testid="export-notice"]')).toContainText(
    'Cannot export: the text filter holds no word',
  )
  expect(consoleErrors).toEqual([])
})
