import { join } from 'node:path'
import { BrowserWindow, session, shell, type WebContents } from 'electron'
import { isPermissionAllowed, isSafeExternalUrl, isTrustedOrigin, secureWebPreferences } from './policy'

export interface MainWindowOptions {
  /** The core's base URL; the window shows `${coreUrl}/` and nothing else. */
  coreUrl: string
  /** Called once, the first time the UI has loaded. */
  onFirstLoad?: () => void
}

// out/main/index.js → out/preload/index.js (electron-vite's layout; CommonJS, as a sandboxed preload must be).
const PRELOAD_PATH = join(__dirname, '../preload/index.js')
// Made from assets/icon.svg by `npm run icons`; the taskbar's icon on Linux and Windows (macOS ignores it).
const WINDOW_ICON = join(__dirname, '../renderer/icon-256.png')

export function createMainWindow({ coreUrl, onFirstLoad }: MainWindowOptions): BrowserWindow {
  restrictPermissions(coreUrl)

  const window = new BrowserWindow({
    title: 'Swarm Monitor',
    width: 1360,
    height: 860,
    minWidth: 800,
    minHeight: 500,
    show: false,
    backgroundColor: '#0f1419',
    icon: WINDOW_ICON,
    webPreferences: secureWebPreferences(PRELOAD_PATH),
  })

  confineNavigation(window.webContents, coreUrl)
  window.once('ready-to-show', () => window.show())
  window.webContents.once('did-finish-load', () => onFirstLoad?.())
  void window.loadURL(`${coreUrl}/`)
  return window
}

/** No new windows, no navigation away from the core; http(s) links go to the system browser. */
function confineNavigation(contents: WebContents, coreUrl: string): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedOrigin(url, coreUrl)) event.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!isTrustedOrigin(url, coreUrl)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

function restrictPermissions(coreUrl: string): void {
  const ses = session.defaultSession
  ses.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(isPermissionAllowed(permission, details.requestingUrl, coreUrl))
  })
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    isPermissionAllowed(permission, requestingOrigin, coreUrl),
  )
}
