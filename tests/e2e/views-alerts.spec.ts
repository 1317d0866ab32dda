import { TEST_TOKENS, expect, test } from './fixtures'
import { inStore, openView, submitTask } from './views.shared'

test.use({ serverArgs: ['--no-demo', '--local-agents', '1'] })

test('alerts: a critical alert is listed and notified, the operator acknowledges it; a viewer is read-only everywhere and the server refuses its commands', async ({
  page,
  app,
  browser,
}) => {
  // A stand-in for the browser's Notification API that records what it is asked to show.
  await page.addInitScript(() => {
    const shown: { title: string; body?: string }[] = []
    ;(window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown
    class FakeNotification {
      static permission: NotificationPermission = 'default'
      static async requestPermission(): Promise<NotificationPermission> {
        FakeNotification.permission = 'granted'
        return 'granted'
      }
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, body: options?.body })
      }
    }
    Object.defineProperty(window, 'Notification', { value: FakeNotification })
  })
  await openView(page, app, 'alerts')
  await expect(page.locator('[data-testid="alerts-empty"]')).toContainText('All clear')
  const notifications = page.locator('[data-testid="alert-notifications"]')
  await notifications.click()
  await expect(notifications).toHaveAttribute('aria-pressed', 'true')

  for (let i = 0; i < 22; i++) {
    await submitTask(page, app, { name: `broken ${i}`, kind: 'shell', payload: { command: 'exit 1' } })
  }
  const alert = page.locator('[data-testid="alert-row"][data-rule="error-rate"]')
  await expect(alert).toHaveAttribute('data-severity', 'critical', { timeout: 15_000 })
  await expect(alert).toHaveAttribute('data-state', 'active')
  await expect(alert).toContainText(/100 % of the tasks/)
  await expect(page.locator('[data-testid="nav-alerts-count"]')).toHaveText('1')
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications))
    .toEqual([{ title: 'Swarm Monitor: error rate', body: expect.stringContaining('failed') }])

  await alert.locator('[data-action="ack"]').click()
  await expect(alert).toHaveAttribute('data-acknowledged', 'true')
  await expect(alert).toContainText('acknowledged')

  // A viewer: the same alert, no controls anywhere, a note saying why.
  const viewer = await browser.newPage()
  await openView(viewer, app, 'alerts', TEST_TOKENS.viewer)
  await expect(viewer.locator('[data-testid="alert-row"][data-rule="error-rate"]')).toBeVisible()
  await expect(viewer.locator('[data-action="ack"]')).toHaveCount(0)
  await expect(viewer.locator('[data-testid="read-only-note"]')).toContainText('acknowledge alerts')
  await viewer.locator('nav [data-view="agents"]').click()
  await expect(viewer.locator('[data-testid="agent-row"]')).toHaveCount(1)
  const agentId = await viewer.locator('[data-testid="agent-row"]').getAttribute('data-agent-id')
  await expect(viewer.getByRole('button', { name: /^(Pause|Resume) / })).toHaveCount(0)
  await expect(viewer.locator('[data-testid="read-only-note"]')).toContainText('pause or resume agents')
  await viewer.locator('nav [data-view="tasks"]').click()
  await expect(viewer.locator('[data-testid="task-row"]').first()).toBeVisible()
  await expect(viewer.locator('[data-testid="new-task"]')).toHaveCount(0)
  await expect(viewer.getByRole('button', { name: /^(Cancel|Retry) / })).toHaveCount(0)
  await viewer.keyboard.press('n')
  await expect(viewer.locator('[data-testid="submit-dialog"]')).toHaveCount(0)
  await viewer.locator('[data-testid="task-row"] button.link').first().click()
  await expect(viewer.locator('[data-testid="task-drawer"] [data-action]')).toHaveCount(0)

  // Around the UI, straight to the socket: the server refuses the viewer anyway.
  const refused = await inStore(
    viewer,
    'connection',
    async (connection: { command(name: string, payload: unknown): Promise<unknown> }, ids: { agentId: string }) => [
      await connection.command('agent:pause', { agentId: ids.agentId }),
      await connection.command('task:submit', { name: 'x', kind: 'shell', payload: { command: 'true' } }),
      await connection.command('alert:ack', { alertId: 'any' }),
    ],
    { agentId: agentId! },
  )
  expect(refused).toEqual([
    { ok: false, error: expect.objectContaining({ code: 'forbidden' }) },
    { ok: false, error: expect.objectContaining({ code: 'forbidden' }) },
    { ok: false, error: expect.objectContaining({ code: 'forbidden' }) },
  ])
  await viewer.close()
})
