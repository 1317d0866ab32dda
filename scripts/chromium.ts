/**
 * Debian's Chromium, started the way every browser run of this project
 * starts it: the browser tests (playwright.config.ts), the renderer bench
 * (bench/scenarios/renderer.ts) and the demo recording (scripts/record-demo.ts).
 * Playwright's own browser download cannot work offline, so playwright-core
 * drives the system's Chromium; CHROMIUM_PATH points at another one.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

export const CHROMIUM_ARGS: readonly string[] = [
  // Root in a container has no user namespaces for Chromium's sandbox; the pages are our own.
  '--no-sandbox',
  '--disable-gpu',
  // No background connections: a closed network refuses them, many at a time, and they add noise.
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
