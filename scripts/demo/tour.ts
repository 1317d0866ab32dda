/**
 * The recorded tour: Overview, Agents (with an agent's details), Tasks (a
 * real shell task submitted from the form, run by a local agent), Logs,
 * Alerts (an error-rate alert, acknowledged), and back to the Overview.
 *
 * Each part lasts a fixed share of the requested length (holds scale with
 * --seconds), counted from its own start, so one slow part (a loaded
 * machine) makes the recording longer rather than cutting the next one
 * short. Waits are on the page's elements, not on guessed delays.
 */
import type { Locator, Page } from 'playwright-core'
import { DEMO_TOKENS } from './server'

export interface TourOptions {
  page: Page
  url: string
  seconds: number
  /** One line of progress. */
  log: (line: string) => void
}

const STEP_TIMEOUT = 25_000

export async function runTour({ page, url, seconds, log }: TourOptions): Promise<void> {
  const started = Date.now()
  let partStarted = started
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`
  /** Starts a part of the tour: its holds count from now. */
  const part = (): void => {
    partStarted = Date.now()
  }
  /** Holds until `share` of the tour's length has passed since the part began, and at least `minMs` from now. */
  const until = async (share: number, minMs = 400): Promise<void> => {
    await page.waitForTimeout(Math.max(partStarted + share * seconds * 1000 - Date.now(), minMs))
  }
  const caption = async (title: string, text: string): Promise<void> => {
    log(`${elapsed()}  ${title} ${text}`)
    await page.evaluate(([t, x]) => (globalThis as unknown as Demo).__demo.caption(t, x), [title, text] as const)
  }
  const on = (testid: string): Locator => page.locator(`[data-testid="${testid}"]`)
  const view = async (key: string, name: string): Promise<void> => {
    await page.keyboard.press(key)
    await page.locator(`.layout[data-view="${name}"] main`).waitFor({ timeout: STEP_TIMEOUT })
  }

  // Overview: figures and three charts that move with every sample.
  part()
  await caption('Overview', 'the swarm live: figures and charts pushed over Socket.IO as they change')
  await waitForChart(page)
  await until(0.17)

  // Agents, then one agent's details.
  part()
  await caption('Agents', '(key 2) every agent’s status, current task, CPU and memory')
  await view('2', 'agents')
  await on('agent-row').first().waitFor({ timeout: STEP_TIMEOUT })
  await until(0.08)
  await caption('Agents', 'click one for its heartbeat, resources and recent tasks')
  await click(page, page.locator('[data-testid="agent-row"][data-agent-id="demo-02"] button.link'))
  await on('agent-drawer').getByText('Recent tasks').waitFor({ timeout: STEP_TIMEOUT })
  await until(0.19)
  await page.keyboard.press('Escape')

  // Tasks: a real shell task from the form.
  part()
  await caption('Tasks', '(key n) submit a shell task: it runs on a local agent of this machine')
  await view('3', 'tasks')
  await page.waitForTimeout(300)
  await page.keyboard.press('n')
  await on('submit-command').waitFor({ timeout: STEP_TIMEOUT })
  await on('submit-command').pressSequentially('echo hello && sleep 2', { delay: 30 })
  await on('submit-name').fill('hello from the tour')
  await click(page, on('submit-send'))
  await on('submit-dialog').waitFor({ state: 'detached', timeout: STEP_TIMEOUT })
  const status = on('task-drawer-status')
  await page.locator('[data-testid="task-drawer-status"][data-status="running"]').waitFor({ timeout: STEP_TIMEOUT })
  await caption('Tasks', 'running: its output streams into the details as it is written')
  await page.locator('[data-testid="task-drawer-status"][data-status="succeeded"]').waitFor({ timeout: STEP_TIMEOUT })
  log(`${elapsed()}  the shell task ${await status.getAttribute('data-status')}`)
  await caption('Tasks', 'succeeded: exit code, timeline and log kept with the task')
  await until(0.3, 1200)
  await page.keyboard.press('Escape')

  // Logs, while a batch of failing shell tasks (the recorder's, over REST) drives the error rate up.
  const failing = new FailingJob(url)
  const job = failing.run()
  try {
    part()
    await caption('Logs', '(key 4) every line from every agent, live — a flaky backup job starts failing')
    await view('4', 'logs')
    await on('log-line').first().waitFor({ timeout: STEP_TIMEOUT })
    await until(0.12)

    // Alerts: the error-rate alert, acknowledged by the operator.
    part()
    await caption('Alerts', '(key 5) the failures push the error rate past its threshold…')
    await view('5', 'alerts')
    const alert = page.locator('[data-testid="alert-row"][data-rule="error-rate"]')
    const raised = await alert
      .waitFor({ timeout: STEP_TIMEOUT })
      .then(() => true)
      .catch(() => false)
    failing.stop()
    if (raised) {
      log(`${elapsed()}  alert raised after ${failing.submitted} failing tasks`)
      await until(0.06, 800)
      await caption('Alerts', 'an alert is raised; the operator acknowledges it, it resolves once the rate falls')
      await click(page, alert.locator('[data-action="ack"]'))
      await page
        .locator('[data-testid="alert-row"][data-rule="error-rate"][data-acknowledged="true"]')
        .waitFor({ timeout: STEP_TIMEOUT })
    } else {
      log(`${elapsed()}  warning: no error-rate alert within ${STEP_TIMEOUT / 1000} s; the tour goes on`)
    }
    await until(0.15, 800)
  } finally {
    failing.stop()
    await job
  }
  if (failing.error) throw failing.error

  // Back to the Overview: the failures are in the figures and the charts.
  part()
  await caption('Overview', '(key 1) the failures show in the figures and the charts')
  await view('1', 'overview')
  await until(0.08, 1500)
  log(`${elapsed()}  tour done`)
}

interface Demo {
  __demo: { caption(title: string, text: string): void }
}

async function waitForChart(page: Page): Promise<void> {
  const chart = page.locator('[data-testid="throughput-chart"]')
  const deadline = Date.now() + STEP_TIMEOUT
  while (Number((await chart.getAttribute('data-points')) ?? 0) < 2) {
    if (Date.now() > deadline) throw new Error('the throughput chart got no data points')
    await page.waitForTimeout(200)
  }
}

/** Moves the drawn pointer to the element visibly (Playwright's own click jumps there), then clicks. */
async function click(page: Page, target: Locator): Promise<void> {
  await target.waitFor({ timeout: STEP_TIMEOUT })
  await target.scrollIntoViewIfNeeded()
  const box = await target.boundingBox()
  if (box) {
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 14 })
    await page.waitForTimeout(250)
  }
  await target.click()
}

/**
 * Shell tasks that fail (stderr, exit 3), submitted over the REST API until
 * stopped: enough failures over the last minute raise the error-rate alert
 * (over a quarter of the tasks that finished, at least 20). A few at a time,
 * and only while the queue is short: a queue that grows by 10 would raise
 * the backlog alert as well, which is not this story.
 */
class FailingJob {
  submitted = 0
  error: Error | null = null
  private stopped = false
  private readonly headers = { Authorization: `Bearer ${DEMO_TOKENS.operator}`, 'Content-Type': 'application/json' }

  constructor(private readonly url: string) {}

  stop(): void {
    this.stopped = true
  }

  /** Never rejects: a failure stops the job and is kept in `error`. */
  async run(): Promise<void> {
    try {
      while (!this.stopped && this.submitted < 400) {
        if ((await this.queued()) < 5) {
          const batch = Array.from({ length: 3 }, () => ++this.submitted)
          await Promise.all(batch.map((n) => this.submit(n)))
        }
        await new Promise((done) => setTimeout(done, 120))
      }
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error))
    }
  }

  private async queued(): Promise<number> {
    const response = await fetch(`${this.url}/api/tasks?status=queued&limit=1`, { headers: this.headers })
    if (!response.ok) throw new Error(`GET /api/tasks answered ${response.status}: ${await response.text()}`)
    return ((await response.json()) as { total: number }).total
  }

  private async submit(n: number): Promise<void> {
    const response = await fetch(`${this.url}/api/tasks`, {
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify({
        name: `backup shard ${n}`,
        kind: 'shell',
        payload: { command: `echo "backup shard ${n}: writing"; echo "disk quota exceeded" >&2; exit 3` },
      }),
    })
    if (response.status !== 201)
      throw new Error(`POST /api/tasks answered ${response.status}: ${await response.text()}`)
  }
}
