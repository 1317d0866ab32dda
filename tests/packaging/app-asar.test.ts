/**
 * Packaging layout check. Electron's runtime cannot be downloaded here, so
 * electron-builder packs the app around a stand-in `electron` file
 * (`--linux dir`, `electronDist`), and the afterPack hook packs a stand-in
 * SQLite addon (SWARM_MONITOR_PACK_SQLITE_ADDON: the project's build for
 * plain Node) where a real `npm run dist` puts the one built for Electron.
 * This proves what is ours — what goes into app.asar and resources/, and that
 * the packed core runs on the packed addon — not that the Electron runtime
 * starts or loads it.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { extractAll, listPackage } from '@electron/asar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACK_ADDON_ENV } from '../../scripts/electron-builder/after-pack'
import { ADDON_ENV, PACKED_ADDON } from '../../src/main/electron-sqlite'
import { TOKEN_ENV } from '../helpers/core'
import { ROOT, builtEntry, run, type RunningProcess } from '../helpers/process'

const work = mkdtempSync(join(tmpdir(), 'sm-pack-'))
const resources = join(work, 'dist', 'linux-unpacked', 'resources')
let files: string[] = []
const running: RunningProcess[] = []
const NODE_ADDON = join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')

beforeAll(() => {
  builtEntry('cli') // fails clearly when out/ is missing
  const standIn = join(work, 'electron-dist')
  mkdirSync(standIn, { recursive: true })
  writeFileSync(join(standIn, 'electron'), '#!/bin/sh\necho "stand-in, not Electron" >&2\nexit 1\n')
  chmodSync(join(standIn, 'electron'), 0o755)
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'electron-builder'),
    [
      '--config',
      'electron-builder.yml',
      '--linux',
      'dir',
      `-c.electronDist=${standIn}`,
      `-c.directories.output=${join(work, 'dist')}`,
    ],
    {
      cwd: ROOT,
      stdio: 'pipe',
      env: { ...process.env, ELECTRON_BUILDER_OFFLINE: 'true', [PACK_ADDON_ENV]: NODE_ADDON },
    },
  )
  files = listPackage(join(resources, 'app.asar'), { isPack: false }).map((file) => file.replaceAll('\\', '/'))
}, 120_000)

afterAll(async () => {
  await Promise.all(running.map((process) => process.stop()))
})

describe('app.asar (packaging layout, stand-in Electron)', () => {
  it('holds the built main, preload and renderer with its icons, and package.json', () => {
    for (const file of [
      '/out/main/index.js',
      '/out/main/cli.js',
      '/out/preload/index.js',
      '/out/renderer/index.html',
      '/out/renderer/favicon.svg',
      '/out/renderer/icon-256.png',
      '/package.json',
    ]) {
      expect(files, file).toContain(file)
    }
  })

  it('holds the production dependencies', () => {
    for (const name of ['fastify', 'socket.io', 'zod', 'pino', 'better-sqlite3', 'prom-client', 'commander', 'yaml']) {
      expect(files, name).toContain(`/node_modules/${name}/package.json`)
    }
  })

  it('holds no sources, tests, source maps or dev dependencies', () => {
    expect(files.filter((file) => /^\/(src|tests|bench|docs|scripts)\//.test(file))).toEqual([])
    expect(files.filter((file) => file.startsWith('/out/') && file.endsWith('.map'))).toEqual([])
    for (const name of [
      'electron',
      'vue',
      'pinia',
      'vite',
      'vitest',
      'typescript',
      'playwright-core',
      'eslint',
      'sharp',
      'icon-gen',
    ]) {
      expect(files, name).not.toContain(`/node_modules/${name}/package.json`)
    }
    // What a cluster node needs at run time: Redis, and a Socket.IO client to relay a follower's agents.
    for (const name of ['@redis/client', 'socket.io-client']) {
      expect(files, name).toContain(`/node_modules/${name}/package.json`)
    }
  })

  it("carries the SQLite addon in resources/, not better-sqlite3's sources or its build for plain Node", () => {
    expect(readFileSync(join(resources, ...PACKED_ADDON)).equals(readFileSync(NODE_ADDON))).toBe(true)
    expect(files).toContain('/node_modules/better-sqlite3/lib/index.js')
    expect(files.filter((file) => /^\/node_modules\/better-sqlite3\/(build|deps|src)\//.test(file))).toEqual([])
    expect(existsSync(join(resources, 'app.asar.unpacked'))).toBe(false)
  })

  it('runs its headless core from the packed files, on the packed addon', async () => {
    const app = join(work, 'app')
    extractAll(join(resources, 'app.asar'), app)
    const server = run(
      join(app, 'out', 'main', 'cli.js'),
      ['--port', '0', '--data-dir', join(work, 'data'), '--no-demo', '--local-agents', '0'],
      { ...TOKEN_ENV, [ADDON_ENV]: join(resources, ...PACKED_ADDON) },
    )
    running.push(server)
    const [, url] = await server.waitFor(/listening on (http:\S+)/)
    const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string }
    expect(health.status).toBe('ok')
    expect((await fetch(`${url}/`)).status).toBe(200)
  })
})
