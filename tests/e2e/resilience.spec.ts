/**
 * The connection indicator and the resilient client in Chromium, against
 * the served app through a TCP fault proxy (the page's origin is the
 * proxy's, which the server accepts as its own: same Host). Short delays
 * come from the renderer's test hook in the URL fragment (`retry`,
 * `heartbeat`, `connectTimeout`; src/shared/client/README.md).
 * Screenshots of each indicator state go to docs/screenshots with
 * SCREENSHOTS=docs.
 */
import { mkdirSync } from 'node:fs'
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import type { Snapshot } from '../../src/shared/protocol'
import { FaultProxy } from '../helpers/fault-proxy'
import { TEST_TOKENS, expect, snap, test } from './fixtures'

const SHOTS = process.env.SCREENSHOTS === 'docs' ? 'docs/screenshots' : 'test-results/screenshots'
mkdirSync(SHOTS, { recursive: true })

const indicator = '[data-testid="connection-indicator"]'

let proxy: FaultProxy | null = null
test.afterEach(async () => {
  await proxy?.close()
  proxy = null
})

async function openThroughProxy(page: Page, appUrl: string, hash: string, token = TEST_TOKENS.operator) {
  proxy = await FaultProxy.start(appUrl)
  await page.goto(`${proxy.url}/#token=${token}&${hash}`)
  return proxy
}

/** The indicator and what is around it: the header bar, and the details panel when open. */
async function snapIndicator(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(300)
  const box = await page.locator(indicator).boundingBox()
  const panel = page.locator('[data-testid="connection-details"]')
  const details = (await panel.count()) > 0 ? await panel.boundingBox() : null
  if (!box) return
  const right = Math.min(
    page.viewportSize()!.width,
    Math.max(box.x + box.width, details ? details.x + details.width : 0) + 12,
  )
  const left = Math.max(0, Math.min(box.x, details?.x ?? box.x) - 560)
  const bottom = Math.max(box.y + box.height, details ? details.y + details.height : 0) + 12
  await snap(page, `${SHOTS}/indicator-${name}.png`, { x: left, y: 0, width: right - left, height: bottom })
}

async function serverSnapshot(url: string): Promise<Snapshot> {
  const response = await fetch(`${url}/api/snapshot`, { headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` } })
  return (await response.json()) as Snapshot
}

const attr = (page: Page, name: string) => page.locator(indicator).getAttribute(name)

test('server stopped: reconnecting with growing delays, restarted: connected, with the new server’s state', async ({
  page,
  app,
}) => {
  await page.goto(`${app.url}/#token=${TEST_TOKENS.operator}&retry=250-4000`)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(8)
  await expect(page.locator(indicator)).toHaveAttribute('data-quality', 'good')
  await snapIndicator(page, 'connected')
  const oldTasks = new Set((await serverSnapshot(app.url)).tasks.map((t) => t.id))

  await app.stop()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'reconnecting')
  // Record the delay drawn before each attempt as the page shows it.
  const delays: number[] = []
  await expect
    .poll(
      async () => {
        // Both attributes in one read, so that they describe the same moment.
        const [attempt, delay] = await page
          .locator(indicator)
          .evaluate((el: HTMLElement) => [Number(el.dataset.attempt), Number(el.dataset.retryDelay)])
        if (delay > 0 && delays.length < attempt) delays.push(delay)
        return delays.length
      },
      { timeout: 15_000, intervals: [50] },
    )
    .toBeGreaterThanOrEqual(4)
  for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!)
  await expect(page.locator(indicator)).toContainText(/attempt \d+/)
  await snapIndicator(page, 'reconnecting')

  await app.start()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected', { timeout: 15_000 })
  // The restarted server is another swarm: the page shows its agents and tasks, nothing of the old one.
  const server = await serverSnapshot(app.url)
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(server.agents.length)
  const rowIds = await page
    .locator('[data-testid="agent-row"]')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-agent-id')).sort())
  expect(rowIds).toEqual(server.agents.map((a) => a.id).sort())
  const taskIds = await page
    .locator('[data-testid="task-row"]')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-task-id')))
  expect(taskIds.filter((id) => id !== null && oldTasks.has(id))).toEqual([])
})

test('a black-holed link is noticed by the heartbeat within its bound, then recovered', async ({ page, app }) => {
  // heartbeat=1000: ping every 1 s, answered within 1 s, two misses: dead within 2 × 1 + 1 = 3 s.
  const faults = await openThroughProxy(page, app.url, 'heartbeat=1000&retry=200-1000&connectTimeout=3000')
  await expect(page.locator(indicator)).toHaveAttribute('data-transport', 'websocket')
  await expect(page.locator(indicator)).not.toHaveAttribute('data-rtt', '')
  faults.blackhole()
  const started = Date.now()
  await expect(page.locator(indicator)).not.toHaveAttribute('data-state', 'connected', { timeout: 6000 })
  expect(Date.now() - started).toBeLessThanOrEqual(3000 + 1500)
  faults.blackhole(false)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected', { timeout: 15_000 })
  await page
    .locator(indicator)
    .getByRole('button', { name: /show connection details/i })
    .click()
  const details = page.locator('[data-testid="connection-details"]')
  await expect(details).toBeVisible()
  await expect(details).toContainText(/heartbeat: 2 pings in a row unanswered/)
  await snapIndicator(page, 'details')
})

test('WebSocket upgrades refused: connected over long-polling, and the indicator says so', async ({ page, app }) => {
  proxy = await FaultProxy.start(app.url)
  proxy.refuseWebSocket()
  await page.goto(`${proxy.url}/#token=${TEST_TOKENS.viewer}`)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  await expect.poll(() => proxy!.refused.some((r) => r.why === 'websocket'), { timeout: 10_000 }).toBe(true)
  await page.waitForTimeout(1000)
  await expect(page.locator(indicator)).toHaveAttribute('data-transport', 'polling')
  await expect(page.locator(indicator)).toContainText('long-polling')
  // Live over long-polling too: the seq moves.
  const seq = Number(await attr(page, 'data-seq'))
  await expect.poll(async () => Number(await attr(page, 'data-seq')), { timeout: 10_000 }).toBeGreaterThan(seq)
  await snapIndicator(page, 'long-polling')
})

test('Socket.IO broken but HTTP alive: polling after 5 attempts, data keeps coming, back to push when healed', async ({
  page,
  app,
}) => {
  const faults = await openThroughProxy(page, app.url, 'retry=100-400')
  await expect(page.locator(indicator)).toHaveAttribute('data-transport', 'websocket')
  faults.breakPath('/socket.io/')
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'reconnecting')
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'polling', { timeout: 15_000 })
  await expect(page.locator(indicator)).toHaveAttribute('data-transport', 'rest')
  await expect(page.locator(indicator)).toContainText('REST polling')
  await expect(page.locator('[data-testid="stale-banner"]')).toContainText(/every second/)
  const seq = Number(await attr(page, 'data-seq'))
  await expect.poll(async () => Number(await attr(page, 'data-seq')), { timeout: 10_000 }).toBeGreaterThan(seq)
  await snapIndicator(page, 'polling')

  faults.breakPath(null)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected', { timeout: 10_000 })
  await expect(page.locator(indicator)).toHaveAttribute('data-transport', 'websocket')
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(8)
})

test('200 ms of added latency each way: quality degraded, round trip shown', async ({ page, app }) => {
  // A ping every second, each allowed a second: 200 ms each way is slow, not dead.
  const faults = await openThroughProxy(page, app.url, 'heartbeat=1000')
  await expect(page.locator(indicator)).toHaveAttribute('data-quality', 'good')
  faults.setLatency(200)
  await expect(page.locator(indicator)).toHaveAttribute('data-quality', 'degraded', { timeout: 15_000 })
  // The average of the last five round trips settles at the added 400 ms and more.
  await expect.poll(async () => Number(await attr(page, 'data-rtt')), { timeout: 15_000 }).toBeGreaterThanOrEqual(400)
  await expect(page.locator(indicator)).toHaveAttribute('data-quality', 'degraded')
  await expect(page.locator('[data-testid="connection-rtt"]')).toHaveText(/^\d{3,} ms$/)
  await snapIndicator(page, 'degraded')
})

test('an operator command issued while down waits in the queue and is delivered once on reconnect', async ({
  page,
  app,
}) => {
  const faults = await openThroughProxy(page, app.url, 'retry=200-1000&view=agents')
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  await expect(page.locator('[data-testid="agent-row"] button[data-action="pause"]').first()).toBeVisible()
  const row = page.locator('[data-testid="agent-row"]:not([data-status="paused"]):not([data-status="offline"])').first()
  const agentId = (await row.getAttribute('data-agent-id'))!
  const target = page.locator(`[data-testid="agent-row"][data-agent-id="${agentId}"]`)

  faults.down()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'reconnecting')
  await target.locator('button[data-action="pause"]').click()
  await expect(page.locator(indicator)).toHaveAttribute('data-queued', '1')
  await expect(page.locator(indicator)).toContainText('1 queued')
  await snapIndicator(page, 'queued')
  const before = (await serverSnapshot(app.url)).agents.find((a) => a.id === agentId)
  expect(before?.status).not.toBe('paused')

  faults.down(false)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected', { timeout: 10_000 })
  await expect(page.locator(indicator)).toHaveAttribute('data-queued', '0')
  await expect(target).toHaveAttribute('data-status', 'paused')
  expect((await serverSnapshot(app.url)).agents.find((a) => a.id === agentId)?.status).toBe('paused')
})

test('the other states: connecting, error (token refused), disconnected', async ({ page, app }) => {
  // Socket.IO requests that never get an answer: the first attempt hangs, so the page stays `connecting`.
  await page.route('**/socket.io/**', () => {})
  await page.goto(`${app.url}/#token=${TEST_TOKENS.viewer}&connectTimeout=30000`)
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(0)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connecting')
  await snapIndicator(page, 'connecting')
  await page.unrouteAll({ behavior: 'ignoreErrors' })

  await page.goto(`${app.url}/#token=not-a-valid-token-at-all`)
  await page.reload()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'error')
  await expect(page.locator(indicator)).toContainText('token refused')
  await snapIndicator(page, 'error')

  await page.goto(`${app.url}/#token=${TEST_TOKENS.viewer}`)
  await page.reload()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  await page
    .locator(indicator)
    .getByRole('button', { name: /show connection details/i })
    .click()
  await page.getByRole('button', { name: 'Disconnect' }).click()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'disconnected')
  await snapIndicator(page, 'disconnected')
  await page.getByRole('button', { name: 'Reconnect now' }).click()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
})

test('the indicator is accessible: a named button, a status region, a details dialog that Escape closes', async ({
  page,
  app,
}) => {
  await app.open(page, TEST_TOKENS.viewer)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  const status = page.locator(`${indicator} [role="status"]`)
  await expect(status).toHaveText(/Connection: connected over/)
  const toggle = page
    .locator(indicator)
    .getByRole('button', { name: /Connection: connected.*show connection details/i })
  await expect(toggle).toHaveAttribute('aria-expanded', 'false')
  await toggle.focus()
  await page.keyboard.press('Enter')
  await expect(page.getByRole('dialog', { name: 'Connection details' })).toBeVisible()
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
  await page.keyboard.press('Escape')
  await expect(page.getByRole('dialog', { name: 'Connection details' })).toBeHidden()
  await expect(toggle).toBeFocused()

  // No WCAG A/AA violation (contrast included) in the indicator or its details, in either theme.
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme })
    await toggle.click()
    await expect(page.getByRole('dialog', { name: 'Connection details' })).toBeVisible()
    const audit = await new AxeBuilder({ page })
      .include(indicator)
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze()
    expect(audit.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([])
    if (colorScheme === 'dark') await snapIndicator(page, 'details-dark')
    await page.keyboard.press('Escape')
  }
})
