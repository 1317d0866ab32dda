/**
 * One way to start the app for browser tests: the built headless server as a
 * child process on a free 127.0.0.1 port, with fixed tokens and a fresh data
 * dir, that a test can stop and start again on the same port.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test as base, expect, type Page } from '@playwright/test'
import { TEST_TOKENS, TOKEN_ENV } from '../helpers/core'
import { freePort } from '../helpers/ports'
import { builtEntry, run, type RunningProcess } from '../helpers/process'

export { expect, TEST_TOKENS }

export class AppServer {
  private process: RunningProcess | null = null
  readonly dataDir = mkdtempSync(join(tmpdir(), 'sm-e2e-'))

  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--data-dir', this.dataDir, ...this.args]
    this.process = run(builtEntry('cli'), args, TOKEN_ENV)
    await this.process.waitFor(/listening on http/)
  }

  async stop(): Promise<void> {
    await this.process?.stop()
    this.process = null
  }

  /** Opens the dashboard with a token in the URL fragment, as the printed links do. */
  async open(page: Page, token: string = TEST_TOKENS.operator): Promise<void> {
    await page.goto(`${this.url}/#token=${token}`)
  }
}

/**
 * Saves a screenshot for the docs. It is an artifact, not a check: headless
 * Chromium now and then never delivers the frame a capture waits for (seen
 * about once in six runs here, with the page itself responsive), so a
 * capture that takes over 10 s is reported and skipped instead of failing the
 * test at its timeout.
 */
export async function snap(
  page: Page,
  path: string,
  clip?: { x: number; y: number; width: number; height: number },
): Promise<void> {
  try {
    await page.screenshot({ path, timeout: 10_000, ...(clip ? { clip } : {}) })
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
    process.stderr.write(`screenshot ${path} not taken: ${message}\n`)
    base.info().annotations.push({ type: 'screenshot skipped', description: `${path}: ${message}` })
  }
}

export const test = base.extend<{ serverArgs: string[]; app: AppServer; consoleErrors: string[] }>({
  serverArgs: [['--demo-agents', '8', '--demo-rate', '4', '--local-agents', '0'], { option: true }],
  app: async ({ serverArgs }, use) => {
    const app = new AppServer(await freePort(), serverArgs)
    await app.start()
    await use(app)
    await app.stop()
  },
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    page.on('pageerror', (error) => errors.push(error.message))
    await use(errors)
  },
})
