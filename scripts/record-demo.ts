/**
 * `npm run demo:record`: records a short tour of the dashboard on the demo
 * swarm into docs/demo/demo.webm and docs/demo/demo.gif.
 *
 * The built headless server runs as a child process; Debian's Chromium,
 * driven by playwright-core, shows the dashboard; the DevTools screencast
 * supplies timestamped frames (Playwright's recordVideo needs a downloaded
 * ffmpeg); Debian's ffmpeg encodes them. Whatever happens — an error, Ctrl-C
 * — the browser and the server are stopped. `--help` lists the options.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium'
import { gifHeight, parseArgs, UsageError, USAGE, type DemoArgs } from './demo/args'
import { checkFfmpeg, encodeGif, encodeWebm } from './demo/encode'
import { Screencast } from './demo/screencast'
import { checkBuilt, DEMO_TOKENS, startServer, type DemoServer } from './demo/server'
import { runTour } from './demo/tour'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OVERLAY = fileURLToPath(new URL('./demo/overlay.browser.js', import.meta.url))
// 15 simulated agents keep up with 2.5 tasks/s (each takes 1–8 s), so no backlog builds up; two
// local agents run the shell tasks the tour submits.
const SERVER_ARGS = ['--demo', '--demo-agents', '15', '--demo-rate', '2.5', '--local-agents', '2']
/** Budgets the docs hold the recordings to; bigger ones are reported, not refused. */
const MAX_BYTES = { gif: 4 * 1024 * 1024, webm: 3 * 1024 * 1024 }

const say = (line: string): void => console.log(line)
const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`

/** What to stop, newest first, once: on success, on error and on a signal. */
const cleanups: (() => Promise<void>)[] = []
/** Runs the cleanups registered after the first `keep` ones. */
async function cleanUp(keep = 0): Promise<void> {
  while (cleanups.length > keep) {
    await cleanups.pop()!().catch((error: unknown) =>
      console.error(`record-demo: while stopping: ${(error as Error).message}`),
    )
  }
}

function preflight(): string | null {
  if (!existsSync(CHROMIUM_PATH)) {
    return `Chromium not found at ${CHROMIUM_PATH}: install it with "apt-get install chromium", or set CHROMIUM_PATH`
  }
  return checkFfmpeg() ?? checkBuilt(ROOT)
}

async function openDashboard(browser: Browser, server: DemoServer, args: DemoArgs) {
  const context = await browser.newContext({
    viewport: { width: args.width, height: args.height },
    deviceScaleFactor: 1,
    colorScheme: args.theme,
  })
  await context.addInitScript({ path: OVERLAY })
  const page = await context.newPage()
  await page.goto(`${server.url}/#token=${DEMO_TOKENS.operator}`)
  await page.locator('[data-testid="connection-indicator"][data-state="connected"]').waitFor({ timeout: 20_000 })
  await page.locator('.layout[data-view="overview"] main').waitFor({ timeout: 20_000 })
  await page.locator('[data-testid="view-state"]').waitFor({ state: 'detached', timeout: 20_000 })
  return page
}

async function record(args: DemoArgs): Promise<void> {
  const out = resolve(args.out)
  const work = mkdtempSync(join(tmpdir(), 'sm-demo-frames-'))
  cleanups.push(async () => {
    if (args.keepFrames) say(`frames kept in ${work}`)
    else rmSync(work, { recursive: true, force: true })
  })
  const framesKept = cleanups.length

  say(`▶ starting the headless server (demo swarm: 15 agents, 2.5 tasks/s; 2 local agents)`)
  const server = await startServer(ROOT, SERVER_ARGS)
  cleanups.push(() => server.stop())
  say(`  ${server.url}`)

  say(`▶ starting Chromium (${CHROMIUM_PATH}), ${args.width}×${args.height}, ${args.theme} theme`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // This script stops the browser itself, on every path out.
    handleSIGINT: false,
    handleSIGTERM: false,
    args: [...CHROMIUM_ARGS],
  })
  cleanups.push(() => browser.close())
  const page = await openDashboard(browser, server, args)

  for (let left = args.warmup; left > 0; left -= 10) {
    say(`  warming up: the swarm runs ${left} s more before recording, so the charts have some history`)
    await page.waitForTimeout(Math.min(10, left) * 1000)
  }

  const cast = new Screencast(await page.context().newCDPSession(page), work, 1 / 30)
  say(`▶ recording the tour (~${args.seconds} s)`)
  await cast.start(args.width, args.height)
  await runTour({
    page,
    url: server.url,
    seconds: args.seconds,
    log: (line) => say(`  ${line}   [${cast.count} frames]`),
  })
  const seconds = await cast.stop()
  say(`  captured ${cast.frames.length} frames (${cast.count} from Chromium) over ${seconds.toFixed(1)} s`)
  if (cast.frames.length < 2) throw new Error('the screencast delivered no frames')
  await cleanUp(framesKept) // the browser and the server are done: free the CPU for the encoder

  const list = join(work, 'frames.ffconcat')
  writeFileSync(list, cast.concatList())
  const progress = (what: string) => {
    let shown = -1
    return (share: number) => {
      const step = Math.floor(share * 4)
      if (step > shown) {
        shown = step
        say(`  ${what}: ${step * 25} %`)
      }
    }
  }
  const started = Date.now()
  say(`▶ encoding WebM (VP9, ${args.width}×${args.height}, ${args.fps} fps)`)
  await encodeWebm({ list, seconds, progress: progress('WebM') }, join(work, 'demo.webm'), args)
  const gif = { width: args.gifWidth, height: gifHeight(args), fps: 10 }
  say(`▶ encoding GIF (${gif.width}×${gif.height}, ${gif.fps} fps)`)
  await encodeGif({ list, seconds, progress: progress('GIF') }, join(work, 'demo.gif'), gif)
  say(`  encoded in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  mkdirSync(out, { recursive: true })
  for (const [name, limit] of [
    ['demo.webm', MAX_BYTES.webm],
    ['demo.gif', MAX_BYTES.gif],
  ] as const) {
    const target = join(out, name)
    copyFileSync(join(work, name), target)
    const size = statSync(target).size
    const over =
      size > limit ? `  — over the ${megabytes(limit)} the docs allow: try fewer --seconds or a smaller size` : ''
    say(`✔ ${relative(process.cwd(), target) || target}: ${megabytes(size)}, ${seconds.toFixed(1)} s${over}`)
  }
}

async function main(): Promise<number> {
  let args: DemoArgs
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`record-demo: ${error.message}\nTry "npm run demo:record -- --help".`)
    return 2
  }
  if (args.help) {
    say(USAGE)
    return 0
  }
  const problem = preflight()
  if (problem) {
    console.error(`record-demo: ${problem}`)
    return 1
  }
  try {
    await record(args)
    return 0
  } finally {
    await cleanUp()
  }
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    console.error(`record-demo: ${signal}: stopping the browser and the server`)
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  })
}

// After a signal, its handler exits once everything is stopped; the tour failing meanwhile is expected.
main().then(
  (code) => {
    if (!interrupted) process.exit(code)
  },
  (error: unknown) => {
    if (interrupted) return
    console.error(`record-demo: ${(error as Error)?.message ?? String(error)}`)
    process.exit(1)
  },
)
