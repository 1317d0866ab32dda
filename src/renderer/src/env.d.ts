/// <reference types="vite/client" />

import type { DesktopBridge } from '../../shared/bridge'

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

declare global {
  interface Window {
    /** Present only inside the Electron window (see src/preload). */
    swarmMonitor?: DesktopBridge
  }

  interface ImportMetaEnv {
    /** Dev only: the core's base URL when the page is not served by the core itself. */
    readonly VITE_SWARM_MONITOR_URL?: string
  }
}

export {}
