/**
 * `npm start`: runs under plain Node after the build. Opens the desktop window
 * when Electron can run here; otherwise says why in one line and serves the
 * same core headless (src/main/cli.ts), so `npm start` always gives a UI.
 *
 * This file never imports `electron`: it only asks the `electron` npm
 * package for the runtime's path (see resolveElectronBinary).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { resolve } from 'node:path'
import { ADDON_ENV, electronVersionOf, ensureElectronAddon } from './electron-sqlite'
import {
  chooseMode,
  fallbackMessage,
  fallbackReason,
  START_FAILED_LINE,
  WINDOW_READY_LINE,
  type ElectronOutcome,
} from './launch-mode'

// out/main/launch.js → the project root, whose package.json "main" is out/main/index.js.
const APP_DIR = resolve(__dirname, '../..')

/** Longest we wait for the `electron` package to resolve (it downloads the runtime when it is missing). */
const RESOLVE_TIMEOUT_MS = 5 * 60_000

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const decision = chooseMode({
    args,
    platform: process.platform,
    env: process.env,
    resolveElectron: resolveElectronBinary,
    fileExists: existsSync,
  })

  if (decision.mode === 'headless') {
    if (decision.reason) process.stderr.write(`${fallbackMessage(decision.reason)}\n`)
    return serveHeadless(args)
  }

  let addon: string
  // Ctrl-C or SIGTERM while the addon is made asks to stop: its tools are stopped, and nothing is served.
  const stop = new AbortController()
  let interrupted: NodeJS.Signals | null = null
  const interrupt = (signal: NodeJS.Signals) => {
    interrupted = signal
    stop.abort()
  }
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt)
  try {
    addon =
      process.env[ADDON_ENV] ||
      (await ensureElectronAddon(
        {
          root: APP_DIR,
          electronVersion: electronVersionOf(decision.binary, APP_DIR),
          platform: process.platform,
          arch: process.arch,
        },
        undefined,
        stop.signal,
      ))
  } catch (error) {
    if (interrupted) process.exit(128 + (constants.signals[interrupted] ?? 0))
    process.stderr.write(`${fallbackMessage(error instanceof Error ? error.message : String(error))}\n`)
    return serveHeadless(args)
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt)
  }

  const outcome = await runElectron(decision.binary, args, addon)
  const reason = fallbackReason(outcome)
  if (reason) {
    process.stderr.write(`${fallbackMessage(reason)}\n`)
    return serveHeadless(args)
  }
  process.exitCode = exitStatus(outcome)
}

/**
 * The official resolution: `require('electron')` from plain Node returns the
 * binary's path (honouring ELECTRON_OVERRIDE_DIST_PATH) or throws "Electron
 * failed to install correctly…". It runs in a child Node because, when the
 * runtime is missing, the package first tries a download with inherited stdio,
 * which would print a progress line and a stack trace over ours.
 */
function resolveElectronBinary(): string {
  const modulePath = createRequire(__filename).resolve('electron')
  const script = `
    let answer
    try { answer = { ok: true, path: require(process.argv[1]) } }
    catch (error) { answer = { ok: false, message: String(error && error.message || error) } }
    process.stdout.write('\\n' + JSON.stringify(answer) + '\\n')`
  const child = spawnSync(process.execPath, ['-e', script, modulePath], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: RESOLVE_TIMEOUT_MS,
    env: process.env,
  })
  if (child.error) throw child.error
  const last = child.stdout.trim().split('\n').pop() ?? ''
  let answer: unknown
  try {
    answer = JSON.parse(last)
  } catch {
    throw new Error(`the electron package could not be loaded (exit status ${child.status ?? child.signal})`)
  }
  if (isResolved(answer)) return answer.path
  throw new Error(isFailure(answer) ? answer.message : 'the electron package gave no path')
}

function isResolved(value: unknown): value is { ok: true; path: string } {
  return typeof value === 'object' && value !== null && 'path' in value && typeof value.path === 'string'
}

function isFailure(value: unknown): value is { ok: false; message: string } {
  return typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string'
}

/**
 * Runs Electron on the app, echoing its stdout while watching for the
 * window-ready and start-failed lines; `addon` is the SQLite build for it.
 */
function runElectron(binary: string, args: readonly string[], addon: string): Promise<ElectronOutcome> {
  return new Promise((resolveOutcome) => {
    const env: NodeJS.ProcessEnv = { ...process.env, [ADDON_ENV]: addon }
    // Inherited from an Electron-based tool (an editor's terminal, say), it would make the binary a plain Node.
    delete env.ELECTRON_RUN_AS_NODE

    const child = spawn(binary, [APP_DIR, ...args], { stdio: ['inherit', 'pipe', 'inherit'], env })
    let windowReady = false
    let startFailed = false
    let interrupted = false
    let pending = ''

    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk)
      if (windowReady || startFailed) return
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      const complete = lines.map((line) => line.trim())
      windowReady = complete.includes(WINDOW_READY_LINE)
      startFailed = complete.includes(START_FAILED_LINE)
    })

    const forward = (signal: NodeJS.Signals): void => {
      interrupted = true
      child.kill(signal)
    }
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    let finished = false
    const finish = (outcome: Omit<ElectronOutcome, 'windowReady' | 'startFailed' | 'interrupted'>): void => {
      if (finished) return
      finished = true
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      resolveOutcome({ ...outcome, windowReady, startFailed, interrupted })
    }

    child.once('error', (error) => finish({ code: null, signal: null, spawnError: error.message }))
    child.once('exit', (code, signal) => finish({ code, signal, spawnError: null }))
  })
}

function exitStatus(outcome: ElectronOutcome): number {
  if (outcome.signal) return 128 + (constants.signals[outcome.signal] ?? 0)
  return outcome.code ?? 1
}

async function serveHeadless(args: readonly string[]): Promise<void> {
  // Loaded only now: the Electron path never needs the core in this process.
  const { runHeadless } = await import('./cli')
  await runHeadless([...args])
}

main().catch((error: unknown) => {
  process.stderr.write(`swarm-monitor: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
