/**
 * Renderer long tasks (SPEC: with 1,000 agents and 2,000 events/s, no
 * main-thread task over 50 ms in Chromium). The server process runs the demo
 * swarm (990 simulated agents working through synthetic tasks: queued,
 * assigned, running, progress, done, with heartbeats) plus the injector's 10
 * agents — 1,000 agents — and serves the built dashboard (out/renderer:
 * `npm run build:app`, which `npm run bench` runs first). The demo's task
 * timers fall behind when the machine is busy, so every second the injector's
 * agents add log lines for what the demo fell short of `LOAD_PER_S`.
 *
 * Debian's Chromium, driven by playwright-core from this process, opens the
 * dashboard once and then shows each view in turn through the nav bar, as a
 * user does. A PerformanceObserver installed before the page's own scripts
 * keeps every long task ('longtask': a main-thread task of 50 ms or more).
 * Per view, once the switch has settled, a window under steady load is
 * judged; the events per second produced in that window come from the
 * server's `swarm_events_total`. Long tasks while loading (the first
 * snapshot) and switching views are reported apart, not judged.
 *
 * `bench/renderer-longtasks.ts` runs the same measurement on its own.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { BENCH_TOKENS, type ProcessSample } from '../api'
import { deadline, sleep } from '../child'
import { childrenOf, CpuWatch, descendantPids } from '../cpu-watch'
import { NO_DEMO, startServer, type ServerHandle } from '../harness'
import type { Scenario, ScenarioOutcome, Verdict } from '../scenario'
import { metric, scrapeMetrics, type MetricValues } from '../scrape'
import { table } from '../table'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../scripts/chromium'

const VIEWS = ['overview', 'agents', 'tasks', 'logs', 'alerts'] as const
const AGENTS = 1000
/** The injector's agents, which log the top-up; the demo swarm has the rest. */
const TOP_UP_AGENTS = 10
const TARGET_EVENTS_PER_S = 2000
/** The rate held: 10 % over the target, so that every view's window is at or above it. */
const LOAD_PER_S = 2200
/** Most log lines per second the top-up adds. */
const MAX_TOP_UP_PER_S = 2000
const LONG_TASK_LIMIT_MS = 50
/**
 * Demo tasks per second. Each yields ~9.4 events (queued, assigned, agent
 * busy, running, a log line, 3 × progress, done, agent freed; one more log
 * line when it fails), and 990 agents add ~200 heartbeats/s: ~1,900 events/s
 * nominal. The demo's timers fall behind when Chromium and other programs
 * are busy (at 200 tasks/s: 2,090–2,180 events/s on a quiet machine, 1,500–
 * 1,800 on a busy one); its agents take ~210 tasks/s at most (1–8 s each),
 * and a queue builds near that.
 */
const DEMO_RATE = 180
const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer/', import.meta.url))
const VIEWPORT = { width: 1440, height: 900 }
/** Bound on every browser call (Playwright's `evaluate` has none of its own). */
const CALL_MS = 30_000

export interface RendererOptions {
  /** Agents in the swarm: the demo's and the top-up's. */
  agents: number
  /** Demo tasks per second. */
  rate: number
  /** Events per second held by the top-up. */
  loadPerS: number
  /** The judged window, per view. */
  windowMs: number
  /** After the page has loaded or a view was switched to, before its window. */
  settleMs: number
  /** After the server started, before the browser opens: the demo's 1–8 s tasks reach their steady rate. */
  warmUpMs: number
}

export function rendererOptions(quick: boolean): RendererOptions {
  return quick
    ? { agents: AGENTS, rate: DEMO_RATE, loadPerS: LOAD_PER_S, windowMs: 5000, settleMs: 2000, warmUpMs: 8000 }
    : { agents: AGENTS, rate: DEMO_RATE, loadPerS: LOAD_PER_S, windowMs: 20_000, settleMs: 3000, warmUpMs: 10_000 }
}

export interface LongTasks {
  count: number
  longestMs: number
  totalMs: number
}

export interface ViewRow {
  view: string
  seconds: number
  /** Events into the pipeline per second during the window (`swarm_events_total`). */
  eventsPerS: number
  /** Of which log lines the top-up added. */
  topUpPerS: number
  /** Events handed to viewers per second (`swarm_events_delivered_total`): the browser is the only viewer. */
  toBrowserPerS: number
  /** Snapshots the server sent the browser because it fell behind. */
  resyncs: number
  /** Agents in the swarm and tasks waiting for one, at the window's end (`swarm_agents`, `swarm_tasks_queued`). */
  agents: number
  queued: number
  /** Long tasks in the judged window. */
  window: LongTasks
  /** Long tasks from the switch to the window (first view: loading the page and the first snapshot). */
  switching: LongTasks
  serverCpuPct: number
  /** Chromium with all its processes, in % of one core. */
  browserCpuPct: number | null
}

export interface RendererResult {
  options: RendererOptions
  chromium: string
  flags: string[]
  viewport: typeof VIEWPORT
  rows: ViewRow[]
}

/** Runs in the page before its own scripts: keeps [startTime, duration] of every long task. */
const OBSERVER_SCRIPT = `
  window.__benchLongTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__benchLongTasks.push([entry.startTime, entry.duration]);
  }).observe({ type: 'longtask', buffered: true });
`

/** Page-clock marks (performance.now()) and the server's figures around one view's window. */
interface Phase {
  view: string
  switchedAt: number
  from: number
  to: number
  /** Wall-clock time between the two readings of `/metrics`. */
  ms: number
  /** The top-up's log-line count at the window's start and end. */
  topUp: [number, number]
  metrics: [MetricValues, MetricValues]
  server: [ProcessSample, ProcessSample]
  browserCpuPct: number | null
}

function longTasksBetween(entries: readonly [number, number][], from: number, to: number): LongTasks {
  const durations = entries.filter(([start]) => start >= from && start < to).map(([, duration]) => duration)
  return {
    count: durations.length,
    longestMs: Math.round(Math.max(0, ...durations)),
    totalMs: Math.round(durations.reduce((sum, d) => sum + d, 0)),
  }
}

function row(phase: Phase, entries: readonly [number, number][]): ViewRow {
  const seconds = phase.ms / 1000
  const delta = (name: string) => metric(phase.metrics[1], name) - metric(phase.metrics[0], name)
  const [s0, s1] = phase.server
  return {
    view: phase.view,
    seconds: Math.round(seconds * 10) / 10,
    eventsPerS: Math.round(delta('swarm_events_total') / seconds),
    topUpPerS: Math.round((phase.topUp[1] - phase.topUp[0]) / seconds),
    toBrowserPerS: Math.round(delta('swarm_events_delivered_total') / seconds),
    resyncs: delta('swarm_client_resyncs_total'),
    agents: [...phase.metrics[1]].reduce(
      (sum, [name, value]) => sum + (name.startsWith('swarm_agents{') ? value : 0),
      0,
    ),
    queued: metric(phase.metrics[1], 'swarm_tasks_queued'),
    window: longTasksBetween(entries, phase.from, phase.to),
    switching: longTasksBetween(entries, phase.switchedAt, phase.from),
    serverCpuPct: Math.round(((s1.cpuMs - s0.cpuMs) / (s1.at - s0.at)) * 100),
    browserCpuPct: phase.browserCpuPct,
  }
}

/**
 * Holds the server at `target` events/s: the injector runs in one-second
 * steps, each logging (from its agents) what the demo swarm fell short of in
 * the steps before (smoothed).
 */
class TopUp {
  /** Log lines sent so far (counted when each step ends). */
  logs = 0
  error: string | null = null
  private running = true
  private readonly loop: Promise<void>

  constructor(
    private readonly server: ServerHandle,
    private readonly target: number,
  ) {
    this.loop = this.run().catch((error: unknown) => {
      this.error = error instanceof Error ? error.message : String(error)
    })
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
  }

  private async run(): Promise<void> {
    const produced = async () => metric(await scrapeMetrics(this.server.url, BENCH_TOKENS.viewer), 'swarm_events_total')
    let before = await produced()
    let at = Date.now()
    let demoPerS: number | null = null
    let logsPerS = 0
    while (this.running) {
      const step = await this.server.child.caller.call(
        'runLoad',
        { logsPerS, heartbeatsPerS: 0, tasksPerS: 0, taskMs: 0, durationMs: 1000 },
        15_000,
      )
      this.logs += step.logs
      const now = await produced()
      const seconds = (Date.now() - at) / 1000
      const demo = (now - before - step.logs) / seconds
      demoPerS = demoPerS === null ? demo : 0.7 * demoPerS + 0.3 * demo
      logsPerS = Math.round(Math.min(MAX_TOP_UP_PER_S, Math.max(0, this.target - demoPerS)))
      before = now
      at = Date.now()
    }
  }
}

/** Shows each view in turn and measures it; answers the phases and every long task the page saw. */
async function visitViews(
  page: Page,
  server: ServerHandle,
  options: RendererOptions,
  browserCpu: CpuWatch | null,
  topUp: TopUp,
): Promise<{ phases: Phase[]; entries: [number, number][] }> {
  const token = BENCH_TOKENS.operator
  const pageNow = () =>
    deadline(
      page.evaluate(() => performance.now()),
      CALL_MS,
      'performance.now() in the page',
    )
  const figures = () =>
    Promise.all([scrapeMetrics(server.url, token), server.child.caller.call('sample', { gc: false })])
  const phases: Phase[] = []
  for (const view of VIEWS) {
    let switchedAt = 0
    if (view === VIEWS[0]) await page.goto(`${server.url}/#view=${view}&token=${token}`)
    else {
      switchedAt = await pageNow()
      await page.locator(`nav [data-view="${view}"]`).click()
    }
    await page.waitForSelector(`.layout[data-view="${view}"] main :is(.panel, .kpis)`)
    await sleep(options.settleMs)
    const [metricsBefore, serverBefore] = await figures()
    const started = Date.now()
    const topUpBefore = topUp.logs
    browserCpu?.lap()
    const from = await pageNow()
    await sleep(options.windowMs)
    const to = await pageNow()
    const browserCpuPct = browserCpu?.lap()?.benchPct ?? null
    const [metricsAfter, serverAfter] = await figures()
    const ms = Date.now() - started
    const topUpAfter = topUp.logs
    phases.push({
      view,
      switchedAt,
      from,
      to,
      ms,
      topUp: [topUpBefore, topUpAfter],
      metrics: [metricsBefore, metricsAfter],
      server: [serverBefore, serverAfter],
      browserCpuPct,
    })
  }
  // An observer hears of a task after it ended: let the last ones in.
  await sleep(1000)
  const entries = await deadline(
    page.evaluate(() => (globalThis as unknown as { __benchLongTasks: [number, number][] }).__benchLongTasks),
    CALL_MS,
    'reading the long tasks',
  )
  return { phases, entries }
}

export async function measureRenderer(options: RendererOptions): Promise<RendererResult> {
  if (!existsSync(`${RENDERER_DIR}index.html`)) {
    throw new Error(`${RENDERER_DIR}index.html is missing: run npm run build:app first`)
  }
  const server = await startServer({
    ...NO_DEMO,
    demo: true,
    demoAgents: options.agents - TOP_UP_AGENTS,
    demoRate: options.rate,
    injectorAgents: TOP_UP_AGENTS,
    rendererDir: RENDERER_DIR,
  })
  const topUp = new TopUp(server, options.loadPerS)
  let browser: Browser | null = null
  try {
    await sleep(options.warmUpMs)
    const before = childrenOf()
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], timeout: CALL_MS })
    // playwright-core starts Chromium from this process: the new child is the browser.
    const browserPids = childrenOf().filter((pid) => !before.includes(pid))
    const browserCpu =
      browserPids.length > 0
        ? new CpuWatch(() => browserPids.flatMap((pid) => [pid, ...descendantPids(pid)]), false)
        : null
    const page = await browser.newPage({ viewport: VIEWPORT })
    page.setDefaultTimeout(CALL_MS)
    await page.addInitScript({ content: OBSERVER_SCRIPT })
    const { phases, entries } = await visitViews(page, server, options, browserCpu, topUp)
    if (topUp.error) throw new Error(`the top-up load failed: ${topUp.error}`)
    return {
      options,
      chromium: browser.version(),
      flags: [...CHROMIUM_ARGS],
      viewport: VIEWPORT,
      rows: phases.map((phase) => row(phase, entries)),
    }
  } finally {
    await topUp.stop()
    await deadline(browser?.close() ?? Promise.resolve(), 15_000, 'closing Chromium').catch(() => {})
    await server.child.stop('stop')
  }
}

export function rendererTable(result: RendererResult): string {
  const { options } = result
  return table(
    `Renderer: Chromium ${result.chromium}, ${options.agents.toLocaleString('en-US')} agents (${options.agents - TOP_UP_AGENTS} demo), ` +
      `${options.rate} demo tasks/s topped up with log lines to ${options.loadPerS.toLocaleString('en-US')} events/s, ` +
      `${Math.round(options.windowMs / 1000)} s per view; long tasks ≥ 50 ms`,
    [
      'view',
      'agents',
      'queued',
      'events/s in',
      'of which top-up',
      'to browser/s',
      'resyncs',
      'long tasks',
      'longest ms',
      'long-task ms',
      'server CPU %',
      'Chromium CPU %',
      'on switch: long tasks',
      'longest ms',
    ],
    result.rows.map((r) => [
      r.view,
      r.agents,
      r.queued,
      r.eventsPerS,
      r.topUpPerS,
      r.toBrowserPerS,
      r.resyncs,
      r.window.count,
      r.window.longestMs,
      r.window.totalMs,
      r.serverCpuPct,
      r.browserCpuPct,
      r.switching.count,
      r.switching.longestMs,
    ]),
  )
}

export function rendererVerdict(result: RendererResult): Verdict {
  const rows = result.rows
  const worst = rows.reduce((a, b) => (b.window.longestMs > a.window.longestMs ? b : a), rows[0]!)
  const slowest = rows.reduce((a, b) => (b.eventsPerS < a.eventsPerS ? b : a), rows[0]!)
  const count = rows.reduce((sum, r) => sum + r.window.count, 0)
  const seconds = Math.round(rows.reduce((sum, r) => sum + r.seconds, 0))
  const rates = `${slowest.eventsPerS.toLocaleString('en-US')}–${Math.max(...rows.map((r) => r.eventsPerS)).toLocaleString('en-US')} events/s`
  const tasks =
    count === 0
      ? `no long task in ${seconds} s over ${rows.length} views`
      : `longest ${worst.window.longestMs} ms (${worst.view}), ${count} long task${count === 1 ? '' : 's'} in ${seconds} s over ${rows.length} views`
  const within = worst.window.longestMs <= LONG_TASK_LIMIT_MS
  const loadReached = slowest.eventsPerS >= TARGET_EVENTS_PER_S
  return {
    target: `renderer, ${AGENTS.toLocaleString('en-US')} agents, ${TARGET_EVENTS_PER_S.toLocaleString('en-US')} events/s: no main-thread task over ${LONG_TASK_LIMIT_MS} ms in Chromium`,
    measured: loadReached
      ? `${tasks}, at ${rates}`
      : `${tasks} — but the server produced only ${slowest.eventsPerS.toLocaleString('en-US')} events/s (${slowest.view}), ` +
        `short of ${TARGET_EVENTS_PER_S.toLocaleString('en-US')}: not judged at the target load`,
    // Over the limit below the target load is over it at the target too; within it below the load proves nothing.
    met: !within ? false : loadReached ? true : null,
  }
}

export const renderer: Scenario = {
  name: 'renderer',
  summary: 'longest main-thread task per view in Chromium, 1,000 agents at ≥ 2,000 events/s',
  async run(settings): Promise<ScenarioOutcome> {
    const result = await measureRenderer(rendererOptions(settings.quick))
    return { result, report: rendererTable(result), verdicts: [rendererVerdict(result)] }
  },
}
