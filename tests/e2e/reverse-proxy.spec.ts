/**
 * A real browser through the shipped nginx configuration (deploy/nginx/):
 * over TLS it gets the live dashboard pushed over WebSocket; through a proxy
 * that does not pass upgrades it stays on long-polling and still gets pushes.
 */
import { AppServer, expect, test, TEST_TOKENS } from './fixtures'
import { freePort } from '../helpers/ports'
import { findNginx, nginxPorts, siteConfig, startNginx, type RunningNginx } from '../helpers/nginx'
import { selfSignedCert } from '../helpers/tls'

test('a browser through nginx: WebSocket over TLS, long-polling when upgrades are stripped', async ({ browser }) => {
  findNginx() // fails naming the package when nginx is missing
  const cert = selfSignedCert()
  const ports = await nginxPorts()
  const app = new AppServer(await freePort(), [
    '--demo-agents',
    '4',
    '--demo-rate',
    '0',
    '--local-agents',
    '0',
    '--allow-origin',
    `https://127.0.0.1:${ports.tls}`,
  ])
  await app.start()
  let nginx: RunningNginx | null = null
  const context = await browser.newContext({ ignoreHTTPSErrors: true })
  try {
    nginx = await startNginx(siteConfig(app.port, ports, cert), ports)
    const submit = async (name: string) => {
      const response = await fetch(`${app.url}/api/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKENS.operator}` },
        body: JSON.stringify({ name, kind: 'report' }),
      })
      return ((await response.json()) as { id: string }).id
    }

    for (const [url, transport] of [
      [`https://127.0.0.1:${ports.tls}`, 'websocket'],
      [`http://127.0.0.1:${ports.noUpgrade}`, 'polling'],
    ] as const) {
      const page = await context.newPage()
      await page.goto(`${url}/#token=${TEST_TOKENS.viewer}`)
      const indicator = page.getByTestId('connection-indicator')
      await expect(indicator).toHaveAttribute('data-state', 'connected')
      await expect(indicator).toHaveAttribute('data-transport', transport)
      await expect(page.getByTestId('agent-row')).toHaveCount(4)
      const id = await submit(`through ${transport}`)
      await expect(page.locator(`[data-testid="task-row"][data-task-id="${id}"]`)).toBeVisible()
      await expect(indicator).toHaveAttribute('data-transport', transport)
      await page.close()
    }
  } finally {
    await context.close()
    await nginx?.stop()
    await app.stop()
  }
})
