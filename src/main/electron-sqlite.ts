/**
 * The SQLite addon for Electron, for `npm start` from a checkout.
 *
 * `npm install` builds better-sqlite3 for the Node that ran it; Electron's
 * main process has another Node ABI and refuses that build ("compiled against
 * a different Node.js version"). Rebuilding in place (electron-builder's
 * install-app-deps) would break the headless server and the tests, which run
 * under plain Node. So the launcher keeps a second build, for the Electron
 * version at hand, in node_modules/.cache/swarm-monitor/, and the core loads
 * that one when it runs in Electron (CoreOptions.sqliteBinding). It is made
 * once per Electron version, the way better-sqlite3's own install makes it:
 * a prebuilt addon for Electron from its releases (prebuild-install), else a
 * compile against Electron's headers (node-gyp). Both need the network.
 *
 * `npm run dist` takes the same addon for each platform and architecture it
 * packs (scripts/electron-builder/after-pack.cjs) and puts it in the app's
 * resources (PACKED_ADDON), so the project's own build is never rebuilt in
 * place, and a cross-build gets the target's prebuilt addon.
 */
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export interface AddonTarget {
  /** The project root, whose node_modules holds better-sqlite3. */
  root: string
  electronVersion: string
  platform: NodeJS.Platform
  arch: string
}

/** A better-sqlite3 addon to load instead of node_modules' own (both entries honour it; the launcher sets it). */
export const ADDON_ENV = 'SWARM_MONITOR_SQLITE_ADDON'
/** Where an installed app keeps its addon for Electron, under its resources folder (scripts/electron-builder/after-pack.cjs). */
export const PACKED_ADDON = ['sqlite', 'better_sqlite3.node'] as const
const DOWNLOAD_TIMEOUT_MS = 2 * 60_000
const COMPILE_TIMEOUT_MS = 10 * 60_000

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
}

/** Where the addon for this better-sqlite3, Electron, platform and architecture is kept. */
export function addonPath(target: AddonTarget): string {
  const sqlite = packageVersion(join(target.root, 'node_modules', 'better-sqlite3'))
  const key = `better-sqlite3-${sqlite}-electron-${target.electronVersion}-${target.platform}-${target.arch}`
  return join(target.root, 'node_modules', '.cache', 'swarm-monitor', key, 'better_sqlite3.node')
}

/**
 * The Electron version of a runtime binary: its dist folder's `version` file
 * (Electron ships one beside the binary; ELECTRON_OVERRIDE_DIST_PATH may point
 * at another runtime than the package's), else the `electron` package's.
 */
export function electronVersionOf(binary: string, root: string): string {
  for (const file of [join(dirname(binary), 'version'), join(dirname(binary), '..', 'Resources', 'version')]) {
    if (existsSync(file)) return readFileSync(file, 'utf8').trim().replace(/^v/, '')
  }
  return packageVersion(join(root, 'node_modules', 'electron'))
}

interface Step {
  what: string
  /** Said before the step runs. */
  announce?: string
  script: string
  args: string[]
  timeoutMs: number
}

/**
 * The environment without npm's settings: run from `npm start`, a configured
 * `nodedir`, `target` or `runtime` (npm_config_*) would make both tools build
 * for the Node that runs npm again, whatever the flags say.
 */
function toolEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_config_/i.test(name)))
}

/** A tool's script as better-sqlite3's install finds it (hoisted or nested). */
function toolScript(modules: string, request: string): string {
  try {
    return createRequire(join(modules, 'better-sqlite3', 'package.json')).resolve(request)
  } catch {
    return join(modules, request)
  }
}

/** The telling line of a tool's output: what it could not download, its error, else its last line. */
export function why(output: string): string | null {
  const download = /gyp http GET (\S+)[\s\S]*got an error/.exec(output)
  if (download) return `could not download ${download[1]}`
  const error = /\bError: (.+)/.exec(output)
  if (error) return error[1]!.trim()
  return output.trim().split('\n').filter(Boolean).at(-1)?.trim() ?? null
}

/** Runs one step in `cwd`; resolves with its last output line when it fails, null when it succeeds. */
function runStep(step: Step, cwd: string, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolveStep) => {
    const child = spawn(process.execPath, [step.script, ...step.args], {
      cwd,
      signal,
      env: toolEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000))
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), step.timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      resolveStep(error.message)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) return resolveStep(null)
      resolveStep(signal ? `stopped after ${step.timeoutMs / 1000} s` : (why(output) ?? `exit code ${code}`))
    })
  })
}

/**
 * The addon's path, made first when missing. Throws an Error saying what was
 * tried and why it failed (offline, no compiler…); nothing half-made stays.
 */
export async function ensureElectronAddon(
  target: AddonTarget,
  say: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  signal?: AbortSignal,
): Promise<string> {
  const file = addonPath(target)
  if (existsSync(file)) return file

  const modules = join(target.root, 'node_modules')
  say(`Preparing SQLite for Electron ${target.electronVersion} (once per Electron version)…`)
  mkdirSync(dirname(file), { recursive: true })
  const stage = mkdtempSync(join(dirname(file), 'stage-'))
  try {
    const copy = join(stage, 'better-sqlite3')
    cpSync(join(modules, 'better-sqlite3'), copy, {
      recursive: true,
      filter: (source) => !source.startsWith(join(modules, 'better-sqlite3', 'build')),
    })
    const electron = ['--runtime', 'electron', '--target', target.electronVersion, '--arch', target.arch]
    // node-gyp builds for the machine it runs on: another platform's addon can only be downloaded.
    const native = target.platform === process.platform && target.arch === process.arch
    const steps: Step[] = [
      {
        what: 'download',
        script: toolScript(modules, 'prebuild-install/bin.js'),
        args: [...electron, '--platform', target.platform],
        timeoutMs: DOWNLOAD_TIMEOUT_MS,
      },
      {
        what: 'compile',
        announce: '  no prebuilt addon could be downloaded; compiling it (a minute or two)…',
        script: process.env.npm_config_node_gyp ?? toolScript(modules, 'node-gyp/bin/node-gyp.js'),
        args: [
          'rebuild',
          '--release',
          `--target=${target.electronVersion}`,
          '--runtime=electron',
          `--arch=${target.arch}`,
          '--dist-url=https://electronjs.org/headers',
          `--devdir=${join(stage, 'headers')}`,
        ],
        timeoutMs: COMPILE_TIMEOUT_MS,
      },
    ].slice(0, native ? 2 : 1)
    const failures: string[] = []
    for (const step of steps) {
      if (step.announce) say(step.announce)
      const failure = await runStep(step, copy, signal)
      if (signal?.aborted) throw new Error('stopped: interrupted')
      const built = join(copy, 'build', 'Release', 'better_sqlite3.node')
      if (failure === null && existsSync(built)) {
        renameSync(built, file)
        say(`  ready: ${file}`)
        return file
      }
      failures.push(`${step.what} failed: ${failure ?? 'no addon was produced'}`)
    }
    if (!native) {
      failures.push(
        `compile: not possible for ${target.platform}-${target.arch} on ${process.platform}-${process.arch}`,
      )
    }
    throw new Error(`no SQLite addon for Electron ${target.electronVersion}: ${failures.join('; ')}`)
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}
