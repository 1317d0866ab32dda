/**
 * What the Electron preload exposes to the renderer as `window.swarmMonitor`:
 * a few named functions, nothing generic. In a plain browser it is absent and
 * the renderer takes its token from the URL fragment instead.
 */
export interface DesktopConnection {
  /** Base URL of the core, e.g. `http://127.0.0.1:7420`. */
  url: string
  /** The operator token: the desktop user owns this machine. */
  token: string
}

export interface DesktopBridge {
  getConnection(): Promise<DesktopConnection>
  /** Desktop notification for critical alerts (Electron `Notification`). */
  notify(title: string, body: string): void
}

export const BRIDGE_KEY = 'swarmMonitor'

/** IPC channel names, shared by the preload and the main-process handlers. */
export const IPC = {
  getConnection: 'swarm:get-connection',
  notify: 'swarm:notify',
} as const
