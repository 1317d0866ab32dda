/**
 * The core as `npm run build:app` ships it (out/main, bundled by
 * electron-vite), for the scenarios that measure memory: under tsx every
 * named function gets its name set by a helper (esbuild's `keepNames`),
 * which gives each such closure a property store of its own — ~5 KB more per
 * viewer connection than the shipped code (measured 2026-12-02,
 * docs/performance.md). Refuses a build older than the sources.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

type CoreModule = typeof import('../src/main/core')

const ROOT = fileURLToPath(new URL('..', import.meta.url))

function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

export function loadBuiltCore(): CoreModule {
  const cli = join(ROOT, 'out/main/cli.js')
  let source: string
  try {
    source = readFileSync(cli, 'utf8')
  } catch {
    throw new Error('out/main/cli.js is missing: run `npm run build:app` first (`npm run bench` does)')
  }
  if (
    statSync(cli).mtimeMs < newest(join(ROOT, 'src/main')) ||
    statSync(cli).mtimeMs < newest(join(ROOT, 'src/shared'))
  ) {
    throw new Error('out/main is older than src/: run `npm run build:app` first (`npm run bench` does)')
  }
  const chunk = /require\("\.\/(chunks\/core-[\w-]+\.js)"\)/.exec(source)?.[1]
  if (!chunk) throw new Error('out/main/cli.js does not name its core chunk: the build changed shape')
  return createRequire(cli)(`./${chunk}`) as CoreModule
}
