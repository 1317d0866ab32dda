/**
 * The Cluster view, in a browser, against the built server: a single server
 * says cluster mode is off and lists itself; two node processes on a real
 * Redis and PostgreSQL (started by the test, on loopback) are both listed,
 * the leader first and the page's own node marked; when the leader stops the
 * other takes over under the next term and the stopped one shows gone; with
 * Redis away the node's warning shows. The connection details name the node
 * the page is on. Screenshots in both themes; axe finds nothing serious.
 */
import type { Page } from '@playwright/test'
import { freePort } from '../helpers/ports'
import { startPostgres, type Postgres } from '../helpers/postgres'
import { startRedis, type Redis } from '../helpers/redis'
import { AppServer, TEST_TOKENS, expect, snap, test } from './fixtures'
import { SHOTS, openView, seriousViolations } from './views.shared'

const node = (page: Page, id: string) => page.locator(`[data-testid="cluster-node"][data-node="${id}"]`)

/** The connection details name the page's node (asked again at each opening: it may have changed role since). */
async function expectNodeInDetails(page: Page, expected: RegExp | string): Promise<void> {
  await page.locator('[data-testid="connection-toggle"]').click()
  await expect(page.locator('[data-testid="connection-node"]')).toHaveText(expected)
  await closeDetails(page)
}

/** Closes the connection details, and leaves no focus ring on their toggle for the screenshots. */
async function closeDetails(page: Page): Promise<void> {
  await page.keyboard.press('Escape')
  await page.locator('[data-testid="connection-toggle"]').evaluate((el: HTMLElement) => el.blur())
}

async function bothThemes(page: Page, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme })
    expect(await seriousViolations(page), colorScheme).toEqual([])
    await snap(page, `${SHOTS}/${name}-${colorScheme}.png`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

test.describe('a single server', () => {
  test.use({ serverArgs: ['--no-demo', '--local-agents', '0', '--node-id', 'solo-1'] })

  test('the Cluster view says cluster mode is off and lists the one node; g c opens it', async ({
    page,
    app,
    consoleErrors,
  }) => {
    await openView(page, app, 'overview')
    await page.keyboard.press('g')
    await page.keyboard.press('c')
    await expect(page).toHaveURL(/view=cluster/)
    const view = page.locator('[data-testid="cluster-view"]')
    await expect(view).toHaveAttribute('data-mode', 'single')
    await expect(page.locator('[data-testid="cluster-single"]')).toContainText('Single node — cluster mode is off')
    await expect(page.locator('[data-testid="cluster-single"]')).toContainText('--redis')
    await expect(page.locator('[data-testid="cluster-facts"]')).toHaveCount(0)
    await expect(page.locator('[data-testid="cluster-node"]')).toHaveCount(1)
    const row = node(page, 'solo-1')
    await expect(row.locator('[data-testid="node-role"]')).toHaveText('leader')
    await expect(row).toContainText('this page')
    // This page is a viewer of it.
    await expect(row.locator('td').nth(2)).toHaveText('1')
    // Polled every 2 s: the sparkline gains points.
    await expect(row.locator('[data-testid="load-sparkline"]')).toHaveAttribute('data-points', /^[2-9]$/, {
      timeout: 8_000,
    })
    await expectNodeInDetails(page, /^\s*solo-1, leader \(single node\)\s*$/)
    await page.keyboard.press('8')
    await expect(page.locator('.layout')).toHaveAttribute('data-view', 'cluster')
    await bothThemes(page, 'cluster-single')
    expect(consoleErrors).toEqual([])
  })
})

test.describe('two nodes on Redis and PostgreSQL', () => {
  let redis: Redis
  let pg: Postgres
  const nodes: AppServer[] = []
  test.beforeAll(async () => {
    test.setTimeout(60_000)
    ;[redis, pg] = await Promise.all([startRedis(), startPostgres()])
  })
  test.afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await redis?.destroy()
    pg?.destroy()
  })

  test('both nodes listed, the leader first; the leader stops: the other leads, term 2, the first gone; Redis away warns', async ({
    page,
    consoleErrors,
  }) => {
    test.setTimeout(90_000)
    const { url: database } = await pg.createDatabase()
    const args = (id: string) => [
      '--no-demo',
      '--local-agents',
      '0',
      '--database',
      database,
      '--redis',
      redis.url,
      '--node-id',
      id,
    ]
    const a = new AppServer(await freePort(), args('node-a'))
    nodes.push(a)
    await a.start()
    const b = new AppServer(await freePort(), args('node-b'))
    nodes.push(b)
    await b.start()

    // A second page on node-a, so both nodes carry a viewer.
    const other = await page.context().newPage()
    await other.goto(`${a.url}/#token=${TEST_TOKENS.viewer}`)
    await page.goto(`${b.url}/#view=cluster&token=${TEST_TOKENS.viewer}`)
    await expect(page.locator('[data-testid="connection-indicator"]')).toHaveAttribute('data-state', 'connected')
    await expect(page.locator('[data-testid="cluster-view"]')).toHaveAttribute('data-mode', 'cluster')
    const rows = page.locator('[data-testid="cluster-node"]')
    await expect(rows).toHaveCount(2)
    await expect(rows.nth(0)).toHaveAttribute('data-node', 'node-a')
    await expect(node(page, 'node-a').locator('[data-testid="node-role"]')).toHaveText('leader')
    await expect(node(page, 'node-b').locator('[data-testid="node-role"]')).toHaveText('follower')
    await expect(node(page, 'node-b')).toContainText('this page')
    await expect(page.locator('[data-testid="cluster-leader"]')).toHaveText('node-a')
    await expect(page.locator('[data-testid="cluster-term"]')).toHaveText('1')
    await expect(page.locator('[data-testid="cluster-self"]')).toHaveText('node-b')
    await expect(node(page, 'node-a').locator('td').nth(2)).toHaveText('1')
    await expect(node(page, 'node-b').locator('td').nth(2)).toHaveText('1')
    await expectNodeInDetails(page, /^\s*node-b, follower\s*$/)
    await page.locator('[data-testid="connection-toggle"]').click()
    const details = (await page.locator('[data-testid="connection-details"]').boundingBox())!
    await snap(page, `${SHOTS}/cluster-connection-node.png`, {
      x: details.x - 8,
      y: 0,
      width: details.width + 16,
      height: Math.min(details.y + 230, details.y + details.height + 8),
    })
    await closeDetails(page)
    await expect(node(page, 'node-b').locator('[data-testid="load-sparkline"]')).toHaveAttribute(
      'data-points',
      /^[3-9]$/,
      { timeout: 8_000 },
    )
    await bothThemes(page, 'cluster-nodes')

    // The leader stops: node-b takes over under term 2; node-a stays listed, gone, below it.
    await other.close()
    await a.stop()
    await expect(page.locator('[data-testid="cluster-leader"]')).toHaveText('node-b', { timeout: 10_000 })
    await expect(page.locator('[data-testid="cluster-term"]')).toHaveText('2')
    await expect(node(page, 'node-a')).toHaveAttribute('data-gone', 'true')
    await expect(node(page, 'node-a').locator('[data-testid="node-gone"]')).toHaveText('gone')
    await expect(rows.nth(0)).toHaveAttribute('data-node', 'node-b')
    await expect(node(page, 'node-b').locator('[data-testid="node-role"]')).toHaveText('leader')
    await expectNodeInDetails(page, /^\s*node-b, leader\s*$/)
    await bothThemes(page, 'cluster-failover')

    // Redis away: the node says so, as a warning, and lists itself alone.
    await redis.kill()
    await expect(page.locator('[data-testid="cluster-warning"]')).toContainText('Redis unreachable', {
      timeout: 10_000,
    })
    await expect(rows).toHaveCount(1)
    await snap(page, `${SHOTS}/cluster-warning-light.png`)
    expect(consoleErrors).toEqual([])
  })
})
