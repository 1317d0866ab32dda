import { rawAgent } from '../helpers/agents'
import { TEST_TOKENS, expect, snap, test } from './fixtures'
import { SHOTS, openView, submitTask } from './views.shared'

test('agents: filters narrow and sort the table, pause and resume from the row and the detail; logs filter and pause', async ({
  page,
  app,
  consoleErrors,
}) => {
  await openView(page, app, 'agents')
  const rows = page.locator('[data-testid="agent-row"]')
  await expect(rows).toHaveCount(8)

  await page.locator('#agent-capability').selectOption('gpu')
  await expect(rows).toHaveCount(4) // the demo gives each capability to half its agents
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

test("an offline agent's details: how it went, uptime that stops, no blank charts, counters that say what they count", async ({
  page,
  app,
  consoleErrors,
}) => {
  // A remote agent that sends one set of figures, runs three tasks (one succeeds, one fails, one times out), then stops.
  const socket = rawAgent(app.url)
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.on('task:assign', ({ task }) => {
    if (task.name === 'e2e ok') void socket.emitWithAck('task:complete', { taskId: task.id, result: 'done' })
    if (task.name === 'e2e bad') void socket.emitWithAck('task:fail', { taskId: task.id, error: 'exit code 3' })
  })
  const registration = { id: 'e2e-gone', name: 'e2e-gone', capabilities: ['e2e'], kinds: ['e2e'] }
  expect((await socket.emitWithAck('agent:register', registration)).ok).toBe(true)
  expect((await socket.emitWithAck('agent:metrics', { cpu: 12, memoryMb: 100 })).ok).toBe(true)
  const ids: string[] = []
  for (const [name, timeoutMs] of [
    ['e2e ok', null],
    ['e2e bad', null],
    ['e2e slow', 300],
  ] as const) {
    ids.push((await submitTask(page, app, { name, kind: 'e2e', capabilities: ['e2e'], timeoutMs })).id)
  }
  await expect
    .poll(async () => {
      const statuses = []
      for (const id of ids) {
        const response = await page.request.get(`${app.url}/api/tasks/${id}`, {
          headers: { Authorization: `Bearer ${TEST_TOKENS.viewer}` },
        })
        statuses.push(((await response.json()) as { status: string }).status)
      }
      return statuses.join(' ')
    })
    .toBe('succeeded failed timed_out')
  socket.disconnect()

  await openView(page, app, 'agents')
  await expect(page.locator('[data-testid="agent-row"][data-agent-id="e2e-gone"]')).toHaveAttribute(
    'data-status',
    'offline',
  )
  await page.locator('[data-testid="agent-row"][data-agent-id="e2e-gone"] button.link').click()
  const drawer = page.locator('[data-testid="agent-drawer"]')
  await expect(drawer.locator('[data-testid="agent-offline"]')).toContainText('disconnected cleanly')
  // Uptime ends where the agent went: it does not keep counting.
  const uptime = drawer.locator('[data-testid="agent-uptime"]')
  await expect(uptime).toContainText('was up')
  const before = await uptime.innerText()
  await page.waitForTimeout(2100)
  expect(await uptime.innerText()).toBe(before)
  // One set of figures draws no line: the charts say so instead of staying blank.
  await expect(drawer.locator('[data-testid="resource-no-data"]')).toHaveCount(2)
  await expect(drawer.locator('[data-testid="resource-no-data"]').first()).toContainText('No data: offline since')
  await expect(drawer.getByRole('img', { name: /CPU use/ })).toHaveCount(0)
  // The counters count attempts (the timeout too), and say so; the list says what it holds.
  await expect(drawer.locator('[data-testid="agent-counters"]')).toHaveText('1 done · 2 failed since it joined')
  await expect(drawer.locator('[data-testid="agent-recent-summary"]')).toContainText(
    '3 tasks this page holds that last ran here: 1 succeeded, 2 failed or timed out',
  )
  await snap(page, `${SHOTS}/agent-offline.png`)
  expect(consoleErrors).toEqual([])
})
