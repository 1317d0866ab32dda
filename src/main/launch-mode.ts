/**
 * The launcher's decisions, without Electron and without side effects, so
 * tests/unit/launch.test.ts can cover them. src/main/launch.ts does the I/O.
 */

export interface LaunchContext {
  /** The user's arguments (after `npm start --`). */
  args: readonly string[]
  platform: NodeJS.Platform
  env: NodeJS.ProcessEnv
  /** The Electron binary's path, the official way (`require('electron')`); throws when it is not installed. */
  resolveElectron: () => string
  fileExists: (path: string) => boolean
}

export type LaunchMode =
  | { mode: 'electron'; binary: string }
  /** `reason` is null when headless is simply what the user asked for (e.g. `--help`). */
  | { mode: 'headless'; reason: string | null }

/** Flags that print and exit: no window needed, and the headless entry documents them all. */
const PRINT_AND_EXIT_FLAGS = new Set(['--help', '-h', '--version', '-V'])

export function chooseMode(context: LaunchContext): LaunchMode {
  if (context.args.some((arg) => PRINT_AND_EXIT_FLAGS.has(arg))) return { mode: 'headless', reason: null }

  // Checked before the runtime: resolving it may start a download that is pointless without a screen.
  if (!hasDisplay(context.platform, context.env)) {
    return { mode: 'headless', reason: 'no display: neither DISPLAY nor WAYLAND_DISPLAY is set' }
  }

  let binary: string
  try {
    binary = context.resolveElectron()
  } catch (error) {
    return { mode: 'headless', reason: `runtime not installed: ${firstLine(error)}` }
  }
  if (!context.fileExists(binary)) {
    return { mode: 'headless', reason: `runtime not installed: ${binary} does not exist` }
  }
  return { mode: 'electron', binary }
}

/** Windows and macOS always have a display session for a desktop app; Linux and the BSDs need X11 or Wayland. */
export function hasDisplay(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): boolean {
  if (platform === 'win32' || platform === 'darwin') return true
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY)
}

/** How Electron ended, as seen by the launcher. */
export interface ElectronOutcome {
  /** Whether it printed WINDOW_READY_LINE (see src/main/index.ts). */
  windowReady: boolean
  /** Whether it printed START_FAILED_LINE: Electron ran, the app did not start (bad flags, port taken…). */
  startFailed: boolean
  code: number | null
  signal: NodeJS.Signals | null
  /** Spawning failed (not executable, wrong architecture…); `code` and `signal` are then null. */
  spawnError: string | null
  /** The launcher itself was asked to stop (Ctrl-C, SIGTERM): never fall back then. */
  interrupted: boolean
}

/**
 * After Electron exits: null to exit with its status, or the reason to serve
 * headless instead. Only a failure before the window opened is a reason; once
 * the user has had a window, its end is the program's end.
 */
export function fallbackReason(outcome: ElectronOutcome): string | null {
  // Headless would fail the same way; the app has already said why.
  if (outcome.windowReady || outcome.startFailed || outcome.interrupted) return null
  if (outcome.spawnError) return `could not run it: ${outcome.spawnError}`
  if (outcome.signal) return `it was killed by ${outcome.signal} before its window opened`
  if (outcome.code !== null && outcome.code !== 0) return `it exited with code ${outcome.code} before its window opened`
  return null
}

/** The one line the launcher prints when it falls back. */
export function fallbackMessage(reason: string): string {
  return `Electron cannot start here (${reason}); serving headless instead.`
}

/** Lines src/main/index.ts prints on stdout for the launcher (and for e2e tests). */
export const WINDOW_READY_LINE = 'window ready'
export const START_FAILED_LINE = 'start failed'

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return (message.split('\n')[0] ?? '').trim().replace(/\.$/, '') || 'unknown error'
}
