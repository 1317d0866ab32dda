/**
 * The Workflows view: a workflow submitted over the API appears with its
 * progress, its graph follows the tasks live (a failure cancels what waits
 * for it), a node opens its task's drawer saying why it ended, and "Retry
 * failed" runs the rest to the end. A second workflow of 500 tasks draws.
 * A link names the workflow shown: it opens that graph, and back and forward
 * move between the workflows opened.
 */
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { expect, snap, test, TEST_TOKENS, type AppServer } from './fixtures'
import { SHOTS, seriousViolations } from './views.shared'

test.use({ serverArgs: ['--demo-agents', '0', '--local-agents', '2'] })

async function openWorkflows(page: Page, app: AppServer): Promise<void> {
  await page.goto(`${app.url}/#view=workflows&token=${TEST_TOKENS.operator}`)
  await expect(page.locator('[data-testid="connection-indicator"]')).toHaveAttribute('data-state', 'connected')
  await expect(page.locator('.layout[data-view="workflows"] main')).toBeVisible()
}

async function submitWorkflow(page: Page, app: AppServer, body: unknown): Promise<{ id: string }> {
  const response = await page.request.post(`${app.url}/api/workflows`, {
    headers: { Authorization: `Bearer ${TEST_TOKENS.operator}` },
    data: body,
  })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: string }
}

const shell = (key: string, command: string, dependsOn: string[] = []) => ({
  key,
  name: key,
  kind: 'shell',
  payload: { command },
  dependsOn,
})

test('workflows: progress, a live graph, a node opening its task, and retry-failed to the end', async ({
  page,
  app,
  consoleErrors,
}) => {
  // The integration test fails once, then passes: its second run finds the mark its first left.
  const mark = join(app.dataDir, 'integration-ran-once')
  await submitWorkflow(page, app, {
    name: 'release 2.4',
    tasks: [
      shell('checkout', 'sleep 0.3'),
      shell('build', 'sleep 0.3', ['checkout']),
      shell('unit-tests', 'sleep 0.2', ['build']),
      shell('integration', `test -f '${mark}' || { touch '${mark}'; exit 1; }`, ['build']),
      shell('docs', 'sleep 0.2', ['checkout']),
      shell('package', 'true', ['unit-tests', 'integration']),
      shell('publish-docs', 'true', ['docs', 'package']),
      shell('deploy', 'true', ['package']),
    ],
  })

  await openWorkflows(page, app)
  const row = page.locator('[data-testid="workflow-row"]')
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('release 2.4')
  const node = (key: string) => page.locator(`[data-testid="workflow-node"][data-key="${key}"]`)
  await expect(page.locator('[data-testid="workflow-node"]')).toHaveCount(8)

  // Live: integration fails, and what waits for it is cancelled naming it.
  await expect(node('integration')).toHaveAttribute('data-status', 'failed', { timeout: 15_000 })
  await expect(node('package')).toHaveAttribute('data-status', 'cancelled')
  await expect(node('deploy')).toHaveAttribute('data-status', 'cancelled')
  await expect(node('unit-tests')).toHaveAttribute('data-status', 'succeeded')
  await expect(row).toHaveAttribute('data-state', 'failed', { timeout: 5000 })
  await page.waitForTimeout(400)
  await snap(page, `${SHOTS}/view-workflows-failed.png`)

  await node('package').click()
  await expect(page.locator('[data-testid="task-drawer-error"]')).toContainText('dependency integration failed')
  await expect(page.locator('[data-testid="task-drawer-workflow"]')).toContainText('release 2.4')
  await page.keyboard.press('Escape')
  // From the Tasks view, a task's workflow opens in the Workflows view.
  await page.locator('nav [data-view="tasks"]').click()
  await page.locator('[data-testid="task-row"]', { hasText: 'deploy' }).locator('button.link').first().click()
  await page.locator('[data-testid="task-drawer-workflow"] button').click()
  await expect(page.locator('.layout[data-view="workflows"]')).toBeVisible()
  await expect(page.locator('[data-testid="workflow-detail"]')).toContainText('release 2.4')

  await page.locator('[data-testid="workflow-retry"]').click()
  await page.getByRole('button', { name: 'Retry failed' }).last().click()
  await expect(node('deploy')).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 })
  await expect(node('publish-docs')).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 })
  await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 5000 })
  // The progress bar eases to its new width; the picture is for the docs.
  await page.waitForTimeout(400)
  await snap(page, `${SHOTS}/view-workflows.png`)
  expect(await seriousViolations(page)).toEqual([])
  expect(consoleErrors).toEqual([])
})

test('workflows: a graph of 500 tasks draws and opens a task', async ({ page, app, consoleErrors }) => {
  // A kind no agent runs: the graph stays as submitted, the first layer queued, the rest waiting.
  const tasks = Array.from({ length: 500 }, (_, i) => ({
    key: `step-${i}`,
    name: `step ${i}`,
    kind: 'nobody-runs-this',
    dependsOn:
      i < 20 ? [] : [`step-${i - 20}`, `step-${i - 20 + ((i * 7) % 20)}`].filter((k, j, all) => all.indexOf(k) === j),
  }))
  await submitWorkflow(page, app, { name: 'wide and deep', tasks })
  await openWorkflows(page, app)
  const started = Date.now()
  await expect(page.locator('[data-testid="workflow-node"]')).toHaveCount(500)
  expect(Date.now() - started).toBeLessThan(5000)
  // Laid out by dagre in the worker (the page's CSP lets a same-origin worker run), not on the page's thread.
  await expect(page.locator('.graph')).toHaveAttribute('data-laid-out-by', 'worker')
  await expect(page.locator('[data-testid="workflow-node"][data-key="step-0"]')).toHaveAttribute(
    'data-status',
    'queued',
  )
  await page.locator('[data-testid="workflow-node"][data-key="step-499"]').click()
  await expect(page.locator('[data-testid="task-drawer-dependencies"]')).toContainText('to succeed before it can run')
  await snap(page, `${SHOTS}/view-workflows-500.png`)
  expect(consoleErrors).toEqual([])
})

test('workflows: a link opens its graph; back and forward move between workflows', async ({ page, app, browser }) => {
  const one = (name: string) => ({ name, tasks: [{ key: `${name}-a`, name: `${name} a`, kind: 'nobody-runs-this' }] })
  const first = await submitWorkflow(page, app, one('alpha'))
  const second = await submitWorkflow(page, app, one('beta'))
  const detail = (p: Page) => p.locator('[data-testid="workflow-detail"]')
  const fragment = (p: Page) => new URLSearchParams(new URL(p.url()).hash.replace(/^#/, ''))

  // A link to the first, opened in a browser of its own: that graph, whichever the list shows first.
  const other = await (await browser.newContext()).newPage()
  await other.goto(`${app.url}/#view=workflows&workflow=${first.id}&token=${TEST_TOKENS.viewer}`)
  await expect(detail(other)).toContainText('alpha')
  await expect(other.locator('[data-testid="workflow-node"][data-key="alpha-a"]')).toBeVisible()

  // Picking one puts it in the address; back and forward follow.
  await openWorkflows(page, app)
  await page.locator('[data-testid="workflow-row"]', { hasText: 'beta' }).click()
  await expect(detail(page)).toContainText('beta')
  expect(fragment(page).get('workflow')).toBe(second.id)
  await page.locator('[data-testid="workflow-row"]', { hasText: 'alpha' }).click()
  await expect(detail(page)).toContainText('alpha')
  expect(fragment(page).get('workflow')).toBe(first.id)
  await page.goBack()
  await expect(detail(page)).toContainText('beta')
  await page.goForward()
  await expect(detail(page)).toContainText('alpha')
})
