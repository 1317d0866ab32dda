import { join } from 'node:path'
import { expect, snap, test } from './fixtures'
import { openView, SHOTS, submitTask } from './views.shared'

test.use({ serverArgs: ['--demo-agents', '2', '--demo-rate', '1', '--local-agents', '1'] })

test('tasks: submit a shell task from the form, watch it finish; cancel and retry ask first; filters narrow', async ({
  page,
  app,
  consoleErrors,
}) => {
  await openView(page, app, 'tasks')
  const drawer = page.locator('[data-testid="task-drawer"]')
  const drawerStatus = page.locator('[data-testid="task-drawer-status"]')

  // Submit: the form sends task:submit; the new task opens in the drawer and runs on the local agent.
  await page.locator('[data-testid="new-task"]').click()
  await page.locator('[data-testid="submit-command"]').fill('echo hello-from-e2e; sleep 0.3')
  await page.locator('[data-testid="submit-name"]').fill('e2e hello')
  await page.locator('[data-testid="submit-env"]').fill('GREETING=hi')
  await page.locator('[data-testid="submit-send"]').click()
  await expect(page.locator('[data-testid="submit-dialog"]')).toHaveCount(0)
  await expect(drawer).toContainText('e2e hello')
  await expect(drawerStatus).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 })
  await expect(page.locator('[data-testid="task-log"]')).toContainText('hello-from-e2e')
  await expect(page.locator('[data-testid="task-timeline"] li')).toHaveCount(4) // queued, assigned, running, succeeded
  await expect(drawer).toContainText('GREETING set (values hidden)')
  // The drawer opens below the header: the connection indicator stays in sight, not under the panel.
  const indicator = page.locator('[data-testid="connection-indicator"]')
  const box = (await indicator.boundingBox())!
  expect((await drawer.boundingBox())!.y).toBeGreaterThanOrEqual(box.y + box.height)
  const onTop = await page.evaluate(
    ({ x, y }) => document.elementFromPoint(x, y)?.closest('[data-testid="connection-indicator"]') !== null,
    { x: box.x + box.width / 2, y: box.y + box.height / 2 },
  )
  expect(onTop).toBe(true)
  const helloRow = page.locator('[data-testid="task-row"]', { hasText: 'e2e hello' })
  await expect(helloRow).toHaveAttribute('data-status', 'succeeded')

  // The server's refusal is shown as it says it.
  await page.keyboard.press('Escape')
  await page.keyboard.press('n')
  await page.locator('[data-testid="submit-command"]').fill('true')
  await page.locator('[data-testid="submit-priority"]').fill('5000')
  await page.locator('[data-testid="submit-send"]').click()
  await expect(page.locator('[data-testid="submit-error"]')).toContainText(/priority/i)
  await page.keyboard.press('Escape')
  await expect(page.locator('[data-testid="submit-dialog"]')).toHaveCount(0)

  // Cancel asks first; "Keep it" changes nothing.
  await page.locator('[data-testid="new-task"]').click()
  await page.locator('[data-testid="submit-command"]').fill('sleep 30')
  await page.locator('[data-testid="submit-name"]').fill('e2e sleeper')
  await page.locator('[data-testid="submit-send"]').click()
  await expect(drawerStatus).toHaveAttribute('data-status', 'running', { timeout: 15_000 })
  const confirm = page.locator('[data-testid="confirm-dialog"]')
  await drawer.locator('[data-action="cancel"]').click()
  await expect(confirm).toBeVisible()
  await expect(confirm).toContainText('Cancel e2e sleeper?')
  await page.locator('[data-testid="confirm-cancel"]').click()
  await expect(confirm).toBeHidden()
  await expect(drawerStatus).toHaveAttribute('data-status', 'running')
  await drawer.locator('[data-action="cancel"]').click()
  await page.locator('[data-testid="confirm-ok"]').click()
  await expect(drawerStatus).toHaveAttribute('data-status', 'cancelled')
  const sleeperRow = page.locator('[data-testid="task-row"]', { hasText: 'e2e sleeper' })
  await expect(sleeperRow).toHaveAttribute('data-status', 'cancelled')

  // Retry (also confirmed) runs it again as a new attempt; then cancel it from its row.
  await drawer.locator('[data-action="retry"]').click()
  await page.locator('[data-testid="confirm-ok"]').click()
  await expect(drawerStatus).toHaveAttribute('data-status', /queued|assigned|running/)
  await expect(drawerStatus).toHaveAttribute('data-status', 'running', { timeout: 15_000 })
  await expect(drawer).toContainText('2 of 2')
  await page.keyboard.press('Escape')
  await sleeperRow.getByRole('button', { name: 'Cancel e2e sleeper' }).click()
  await page.locator('[data-testid="confirm-ok"]').click()
  await expect(sleeperRow).toHaveAttribute('data-status', 'cancelled')

  // Filters narrow the list: by status, by text, by agent.
  const rows = page.locator('[data-testid="task-row"]')
  await page.locator('#task-status').selectOption('cancelled')
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText('e2e sleeper')
  await page.locator('#task-status').selectOption('all')
  await page.locator('#task-text').fill('e2e')
  await expect(rows).toHaveCount(2)
  await page.locator('#task-text').fill('')
  const local = await page.locator('#task-agent option', { hasText: 'local' }).getAttribute('value')
  await page.locator('#task-agent').selectOption(local!)
  await expect(rows).toHaveCount(2)
  await expect(page.locator('[data-testid="tasks-count"]')).toContainText('2 of')
  expect(consoleErrors).toEqual([])
})

test('a queued task says what it waits for: no agent that runs it, or how many could and are busy', async ({
  page,
  app,
  consoleErrors,
}) => {
  await openView(page, app, 'tasks')
  const drawer = page.locator('[data-testid="task-drawer"]')
  const waiting = page.locator('[data-testid="task-drawer-waiting"]')
  const open = (name: string) =>
    page.locator('[data-testid="task-row"]', { hasText: name }).locator('button.link').click()

  // Nothing here runs this kind with that capability: it says so.
  await submitTask(page, app, { name: 'e2e orphan', kind: 'render', payload: {}, capabilities: ['tpu'] })
  await open('e2e orphan')
  await expect(drawer).toContainText('e2e orphan')
  await expect(waiting).toHaveText(/No agent can run this task now: none runs render tasks with tpu\./)
  await snap(page, `${SHOTS}/task-waiting.png`)

  // The one local agent is busy with a shell task: the next one waits for it.
  await submitTask(page, app, { name: 'e2e busy', kind: 'shell', payload: { command: 'sleep 5' } })
  await submitTask(page, app, { name: 'e2e next', kind: 'shell', payload: { command: 'true' } })
  await open('e2e next')
  await expect(waiting).toHaveText(/1 agent can run it \(1 busy, 0 paused\)\./)
  await expect(page.locator('[data-testid="task-drawer-status"]')).toHaveAttribute('data-status', 'succeeded', {
    timeout: 15_000,
  })
  await expect(waiting).toHaveCount(0)
  expect(consoleErrors).toEqual([])
})

test('a task requeued by a restart and then done: no old error, 1 attempt of 1, its log marked per attempt', async ({
  page,
  app,
  consoleErrors,
}) => {
  // The first run waits until the server goes; the run after the restart finds its marker and finishes.
  const marker = join(app.dataDir, 'first-run-happened')
  const command = `if [ -e '${marker}' ]; then echo "second run"; else touch '${marker}'; echo "first run"; sleep 30; fi`
  const task = await submitTask(page, app, { name: 'e2e restart survivor', kind: 'shell', payload: { command } })
  await openView(page, app, 'tasks')
  await page.locator('[data-testid="task-row"]', { hasText: 'e2e restart survivor' }).locator('button.link').click()
  await expect(page.locator('[data-testid="task-log"]')).toContainText('first run', { timeout: 15_000 })

  // Away from the page first: a page left on a stopped server logs its failed requests as errors.
  await page.goto('about:blank')
  await app.stop()
  await app.start()
  await openView(page, app, 'tasks')
  const row = page.locator(`[data-testid="task-row"][data-task-id="${task.id}"]`)
  await expect(row).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 })
  // Tries: one counted attempt of one; the requeued run is shown apart, not as a retry.
  await expect(row.locator('.col-attempts')).toHaveText('1/1+1')
  await expect(row.locator('.error-text, .note-text')).toHaveCount(0)
  await row.locator('button.link').click()
  const drawer = page.locator('[data-testid="task-drawer"]')
  await expect(page.locator('[data-testid="task-drawer-status"]')).toHaveAttribute('data-status', 'succeeded')
  await expect(page.locator('[data-testid="task-drawer-error"]')).toHaveCount(0)
  await expect(page.locator('[data-testid="task-drawer-attempts"]')).toContainText('1 of 1')
  await expect(page.locator('[data-testid="task-drawer-attempts"]')).toContainText('1 more run was requeued')
  // The timeline keeps what happened; the log says which lines came from which attempt.
  await expect(drawer.locator('[data-testid="task-timeline"]')).toContainText('the server restarted')
  const attempts = page.locator('[data-testid="task-log-attempt"]')
  await expect(attempts).toHaveCount(2)
  await expect(attempts.nth(0)).toHaveAttribute('data-attempt', '1')
  await expect(attempts.nth(0)).toContainText(/requeued: the server restarted .*not counted as a retry/)
  await expect(attempts.nth(1)).toHaveAttribute('data-attempt', '2')
  await expect(attempts.nth(1)).toContainText('succeeded')
  const log = await page.locator('[data-testid="task-log"]').innerText()
  expect(log.indexOf('first run')).toBeGreaterThan(log.indexOf('Attempt 1'))
  expect(log.indexOf('first run')).toBeLessThan(log.indexOf('Attempt 2'))
  expect(log.indexOf('second run')).toBeGreaterThan(log.indexOf('Attempt 2'))
  await page.locator('[data-testid="task-log"]').scrollIntoViewIfNeeded()
  await snap(page, `${SHOTS}/task-attempts.png`)
  expect(consoleErrors).toEqual([])
})
