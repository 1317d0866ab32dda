/**
 * The shell's security decisions as plain functions.
 *
 * Nothing here imports `electron`: these are the parts worth unit-testing,
 * and tests run under plain Node where `electron` cannot even be required.
 * window.ts and ipc.ts apply them.
 */

/**
 * The window's webPreferences. Structurally a subset of Electron's
 * `WebPreferences`, spelled out so a reviewer sees every hardening switch.
 */
export interface SecureWebPreferences {
  preload: string
  contextIsolation: true
  sandbox: true
  nodeIntegration: false
  nodeIntegrationInWorker: false
  nodeIntegrationInSubFrames: false
  webviewTag: false
  webSecurity: true
  allowRunningInsecureContent: false
  experimentalFeatures: false
  navigateOnDragDrop: false
  spellcheck: false
}

export function secureWebPreferences(preload: string): SecureWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  }
}

/** The origin of an http(s) URL, or null for anything else (opaque origins, garbage). */
export function originOf(url: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
  return parsed.origin
}

/**
 * True when `url` has exactly the core's origin (scheme, host and port).
 * The window only ever shows the core's UI, so this is the whole trust model
 * for navigation, permissions and IPC senders.
 */
export function isTrustedOrigin(url: string | null | undefined, coreUrl: string): boolean {
  if (!url) return false
  const origin = originOf(url)
  return origin !== null && origin === originOf(coreUrl)
}

const MAX_EXTERNAL_URL_LENGTH = 2048

/**
 * Links the user may follow into the system browser: plain http(s) with a
 * host and no embedded credentials. `file:`, `javascript:`, custom schemes
 * (which launch arbitrary local handlers) and `user:pass@host` are refused.
 */
export function isSafeExternalUrl(url: string): boolean {
  if (url.length > MAX_EXTERNAL_URL_LENGTH) return false
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false
  if (!parsed.hostname) return false
  return parsed.username === '' && parsed.password === ''
}

/** The only web permission the UI needs: desktop notifications, from the core's own page. */
export function isPermissionAllowed(
  permission: string,
  requestingUrl: string | null | undefined,
  coreUrl: string,
): boolean {
  return permission === 'notifications' && isTrustedOrigin(requestingUrl, coreUrl)
}

export const NOTIFICATION_TITLE_MAX = 120
export const NOTIFICATION_BODY_MAX = 500

export interface NotificationRequest {
  title: string
  body: string
}

/**
 * Validates the arguments of a `notify` IPC message. IPC arguments are
 * whatever the renderer sent, whatever the types say, so anything but two
 * strings is refused; over-long text is cut rather than refused, because an
 * alert message is still worth showing.
 */
export function parseNotificationRequest(args: readonly unknown[]): NotificationRequest | null {
  if (args.length !== 2) return null
  const [title, body] = args
  if (typeof title !== 'string' || typeof body !== 'string') return null
  const cleanTitle = truncate(title.trim(), NOTIFICATION_TITLE_MAX)
  if (cleanTitle === '') return null
  return { title: cleanTitle, body: truncate(body.trim(), NOTIFICATION_BODY_MAX) }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
