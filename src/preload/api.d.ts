/**
 * What the preload adds to the renderer's `window`. Included by
 * tsconfig.web.json; absent at run time in a plain browser, hence optional.
 * The key is BRIDGE_KEY from src/shared/bridge.ts.
 */
import type { DesktopBridge } from '../shared/bridge'

declare global {
  interface Window {
    swarmMonitor?: DesktopBridge
  }
}

export {}
