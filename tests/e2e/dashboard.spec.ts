import { mkdirSync } from 'node:fs'
import { TEST_TOKENS, expect, snap, test } from './fixtures'

/** Where screenshots go: docs/screenshots when SCREENSHOTS=docs (npm run screenshots), else test-results. */
const SHOTS = process.env.SCREENSHOTS === 'docs' ? 'docs/screenshots' : 'test-results/screenshots'
mkdirSync(SHOTS, { recursive: true })

const indicator = '[data-testid="connection-indicator"]'

test('the demo swarm is live: agent rows change status, tasks finish, no console errors', async ({
  page,
  app,
  consoleErrors,
}) => {
  // What the page offers in its handshake (long-polling carries it, before the upgrade), and the compressed
  // batches it gets over the WebSocket.
  const offers: string[] = []
  const compressed: string[] = []
  page.on('request', (request) => {
    const body = request.postData()
    if (body?.includes('40/dashboard,')) offers.push(body)
  })
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      if (typeof payload === 'string' && payload.startsWith('40/dashboard,')) offers.push(payload)
    })
    socket.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string' && /^42\/dashboard,\["(events|snapshot):deflate-raw"/.test(payload)) {
        compressed.push(payload)
      }
    })
  })
  await page.emulateMedia({ colorScheme: 'dark' })
  await app.open(page, TEST_TOKENS.operator)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  await expect(page.locator(indicator)).toHaveAttribute('data-transport', 'websocket')
  const rows = page.locator('[data-testid="agent-row"]')
  await expect(rows).toHaveCount(8)

  // Statuses as first drawn, then wait until some row shows another: pushed, not reloaded.
  const first = await rows.evaluateAll((elements) =>
    Object.fromEntries(elements.map((el) => [el.getAttribute('data-agent-id'), el.getAttribute('data-status')])),
  )
  await expect
    .poll(
      async () =>
        rows.evaluateAll(
          (elements, before) =>
            elements.some((el) => before[el.getAttribute('data-agent-id') ?? ''] !== el.getAttribute('data-status')),
          first,
        ),
      { timeout: 20_000 },
    )
    .toBe(true)

  await expect(page.locator('[data-testid="task-row"][data-status="succeeded"]').first()).toBeVisible({
    timeout: 20_000,
  })
  await expect(page.locator('[data-testid="role-badge"]')).toContainText(/operator/i)
  // The chart follows the samples as they arrive (uPlot keeps its data on the instance).
  await expect
    .poll(() => page.locator('[data-testid="throughput-chart"]').getAttribute('data-points'), { timeout: 10_000 })
    .toMatch(/^[3-9]|\d\d/)
  await snap(page, `${SHOTS}/dashboard-dark.png`)
  expect(consoleErrors).toEqual([])
  // Chromium inflates with DecompressionStream: the page asked for deflate-raw and drew what came compressed.
  expect(offers.join('\n')).toContain('"encoding":"deflate-raw"')
  await expect.poll(() => compressed.length, { timeout: 10_000 }).toBeGreaterThan(0)
})

test('the light theme follows the system', async ({ page, app }) => {
  await page.emulateMedia({ colorScheme: 'light' })
  await app.open(page, TEST_TOKENS.operator)
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(8)
  await expect(page.locator('[data-testid="task-row"]').first()).toBeVisible({ timeout: 20_000 })
  await page.waitForTimeout(1500)
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
  const [r, g, b] = background.match(/\d+/g)!.map(Number)
  expect(r! + g! + b!).toBeGreaterThan(600)
  await snap(page, `${SHOTS}/dashboard-light.png`)
})

test('the indicator goes reconnecting when the server stops and connected when it is back', async ({ page, app }) => {
  await app.open(page, TEST_TOKENS.viewer)
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(8)

  await app.stop()
  // A closed connection is seen at once; a transport that does not notice (a poll in flight on a
  // loaded machine) is caught by the heartbeat within its documented 14 s bound.
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'reconnecting', { timeout: 20_000 })
  await snap(page, `${SHOTS}/dashboard-reconnecting.png`)

  await app.start()
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected', { timeout: 20_000 })
  // The restarted server is a new swarm; the page shows its agents, not a mix.
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(8)
  await expect(page.locator('[data-testid="agent-row"]').first()).toHaveAttribute('data-status', /idle|busy/)
})

test('a viewer token gives a read-only dashboard', async ({ page, app }) => {
  await app.open(page, TEST_TOKENS.viewer)
  await expect(page.locator('[data-testid="role-badge"]')).toContainText(/read-only/i)
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(8)
})

test('without a token the dashboard asks for one, and says when a token is refused', async ({ page, app }) => {
  await page.goto(app.url + '/')
  const prompt = page.locator('[data-testid="token-prompt"]')
  await expect(prompt).toBeVisible()
  await snap(page, `${SHOTS}/token-prompt.png`)
  await prompt.locator('input').fill('not-a-real-token-at-all')
  await prompt.locator('input').press('Enter')
  await expect(page.locator('[data-testid="token-refused"]')).toBeVisible()

  await prompt.locator('input').fill(TEST_TOKENS.viewer)
  await prompt.locator('input').press('Enter')
  await expect(page.locator(indicator)).toHaveAttribute('data-state', 'connected')
  await expect(page.locator('[data-testid="agent-row"]')).toHaveCount(8)
})

test('ages are on the server clock: a page whose clock is an hour ahead still shows fresh heartbeats', async ({
  page,
  app,
}) => {
  await page.clock.install({ time: Date.now() + 3_600_000 })
  await app.open(page, TEST_TOKENS.viewer)
  const ages = page.locator('[data-testid="agent-row"] td.age')
  await expect(ages).toHaveCount(8)
  // Once the heartbeat has measured the offset (its first ping answer), every age reads in seconds.
  await expect
    .poll(async () => (await ages.allTextContents()).every((age) => /^(just now|\d+ s ago)$/.test(age.trim())), {
      timeout: 15_000,
    })
    .toBe(true)
})
