/**
 * The Electron entry: start the core, open one window on it, stop the core on quit.
 * Everything else lives in ./core (Electron-free) and ./shell.
 */
import { join, resolve } from 'node:path'
import { app, dialog, type BrowserWindow } from 'electron'
import { ConfigError, createCore, loadConfig, StartError, type Core } from './core'
import { ADDON_ENV, PACKED_ADDON } from './electron-sqlite'
import { START_FAILED_LINE, WINDOW_READY_LINE } from './launch-mode'
import { userArgs, withDefaultDataDir, withFreePortDefault } from './shell/argv'
import { registerIpc } from './shell/ipc'
import { installAppMenu } from './shell/menu'
import { createMainWindow } from './shell/window'

/** The built renderer, next to this file (out/main → out/renderer); the core serves it at `/`. */
const RENDERER_DIR = resolve(__dirname, '../renderer')

let core: Core | null = null
let coreStopped = false
let mainWindow: BrowserWindow | null = null

// Every renderer sandboxed, whatever a window's own webPreferences say.
app.enableSandbox()

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the core and its port; it focuses its window (second-instance below).
  app.exit(0)
} else {
  app.on('second-instance', () => showWindow())
  app.on('activate', () => showWindow())
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('before-quit', (event) => {
    if (!core || coreStopped) return
    event.preventDefault()
    const stopping = core
    core = null
    stopping
      .stop()
      .catch((error: unknown) => stopping.logger.error({ err: error }, 'core stop failed'))
      .finally(() => {
        coreStopped = true
        app.quit()
      })
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit())

  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => failStart(error))
}

async function start(): Promise<void> {
  let args = withFreePortDefault(userArgs(process.argv, app.isPackaged), process.env)
  // Installed, the app keeps its data where Electron apps do; from a checkout, the core's default applies.
  if (app.isPackaged) args = withDefaultDataDir(args, process.env, app.getPath('userData'))

  const config = loadConfig(args, process.env, RENDERER_DIR)
  // The SQLite addon built for Electron (src/main/electron-sqlite.ts): from a checkout `npm start` hands it
  // over; an installed app carries it in its resources.
  const packed = app.isPackaged ? join(process.resourcesPath, ...PACKED_ADDON) : undefined
  const started = createCore(config, { sqliteBinding: process.env[ADDON_ENV] || packed })
  core = started
  await started.start()

  registerIpc({ url: started.url, operatorToken: started.tokens.operator })
  installAppMenu()
  showWindow()
}

function showWindow(): void {
  if (!core) return
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
    return
  }
  const logger = core.logger
  mainWindow = createMainWindow({
    coreUrl: core.url,
    // The launcher (src/main/launch.ts) waits for this line before it trusts Electron.
    onFirstLoad: () => process.stdout.write(`${WINDOW_READY_LINE}\n`),
  })
  mainWindow.webContents.on('did-fail-load', (_event, code, description, url) => {
    logger.error({ code, description, url }, 'window failed to load the UI')
  })
  mainWindow.on('closed', () => {
    mainWindow = null
  })
}

function failStart(error: unknown): void {
  // `--help` and `--version` arrive as a ConfigError with exit code 0: text to print, not a failure.
  if (error instanceof ConfigError && error.exitCode === 0) {
    process.stdout.write(`${error.message}\n`)
    app.exit(0)
    return
  }
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`swarm-monitor: ${message}\n`)
  const expected = error instanceof ConfigError || error instanceof StartError
  if (!expected && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
  // Tells the launcher this is the app failing, not Electron: serving headless would only fail the same way.
  process.stdout.write(`${START_FAILED_LINE}\n`)
  dialog.showErrorBox('Swarm Monitor could not start', message)

  const failed = core
  core = null
  const exitCode = error instanceof ConfigError || error instanceof StartError ? error.exitCode : 1
  void (failed ? failed.stop().catch(() => undefined) : Promise.resolve()).finally(() => app.exit(exitCode))
}
