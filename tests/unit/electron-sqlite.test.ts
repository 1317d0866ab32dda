/**
 * The SQLite addon `npm start` prepares for Electron (src/main/electron-sqlite.ts).
 * Electron's runtime and its headers cannot be downloaded here, so the real
 * tools are run only where they must fail whatever the network (an Electron
 * version that does not exist); the cache, the order of the two ways and the
 * clean-up are checked with stand-in tools in a scratch project.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  addonPath,
  electronVersionOf,
  ensureElectronAddon,
  why,
  type AddonTarget,
} from '../../src/main/electron-sqlite'
import { until } from '../helpers/core'
import { ROOT } from '../helpers/process'

afterEach(() => vi.unstubAllEnvs())

type Behaviour = 'works' | 'fails' | 'hangs'
/** A stand-in tool: logs its arguments, then makes build/Release/better_sqlite3.node, fails, or hangs. */
function standIn(file: string, behaviour: Behaviour): void {
  const act: Record<Behaviour, string> = {
    works: `fs.mkdirSync('build/Release', { recursive: true }); fs.writeFileSync('build/Release/better_sqlite3.node', 'addon')`,
    fails: `console.error('ERR! stand-in cannot reach the network'); process.exit(1)`,
    hangs: `setTimeout(() => {}, 60_000)`,
  }
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(
    file,
    `const fs = require('node:fs')
fs.appendFileSync(${JSON.stringify(file + '.calls')}, JSON.stringify({ cwd: process.cwd(), args: process.argv.slice(2) }) + '\\n')
${act[behaviour]}
`,
  )
}
/** The calls the stand-in logged; a line still being written (read mid-append) is not one yet. */
const calls = (file: string): { cwd: string; args: string[] }[] =>
  existsSync(`${file}.calls`)
    ? readFileSync(`${file}.calls`, 'utf8')
        .split('\n')
        .filter((line) => line.endsWith('}'))
        .map((line) => JSON.parse(line) as { cwd: string; args: string[] })
    : []

function scratchProject(tools: { download: Behaviour; compile: Behaviour }) {
  const root = mkdtempSync(join(tmpdir(), 'sm-addon-project-'))
  const sqlite = join(root, 'node_modules', 'better-sqlite3')
  mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true })
  writeFileSync(join(sqlite, 'package.json'), JSON.stringify({ name: 'better-sqlite3', version: '12.0.0-test' }))
  writeFileSync(join(sqlite, 'binding.gyp'), '{}')
  writeFileSync(join(sqlite, 'build', 'Release', 'better_sqlite3.node'), 'the Node build')
  const download = join(root, 'node_modules', 'prebuild-install', 'bin.js')
  const compile = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  standIn(download, tools.download)
  standIn(compile, tools.compile)
  vi.stubEnv('npm_config_node_gyp', undefined)
  const target: AddonTarget = { root, electronVersion: '45.4.1', platform: process.platform, arch: process.arch }
  return { root, target, download, compile }
}

describe('addonPath and electronVersionOf', () => {
  it('keeps one addon per better-sqlite3, Electron, platform and architecture, in the cache', () => {
    const { root, target } = scratchProject({ download: 'works', compile: 'works' })
    expect(addonPath(target)).toBe(
      join(
        root,
        'node_modules/.cache/swarm-monitor/better-sqlite3-12.0.0-test-electron-45.4.1-linux-x64/better_sqlite3.node',
      ),
    )
    expect(addonPath({ ...target, electronVersion: '46.0.0' })).not.toBe(addonPath(target))
    expect(addonPath({ ...target, arch: 'arm64' })).not.toBe(addonPath(target))
  })

  it("reads the runtime's version file, else the electron package's version", () => {
    const dist = mkdtempSync(join(tmpdir(), 'sm-electron-dist-'))
    writeFileSync(join(dist, 'version'), 'v45.9.2\n')
    expect(electronVersionOf(join(dist, 'electron'), ROOT)).toBe('45.9.2')
    const packageVersion = (
      JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as {
        version: string
      }
    ).version
    expect(electronVersionOf(join(mkdtempSync(join(tmpdir(), 'sm-no-dist-')), 'electron'), ROOT)).toBe(packageVersion)
  })
})

describe('why', () => {
  it('quotes what a tool could not download, else its error, else its last line', () => {
    const gyp = [
      'gyp http GET https://electronjs.org/headers/v45.4.1/node-v45.4.1-headers.tar.gz',
      'gyp WARN install got an error, rolling back install',
      'gyp ERR! stack Error: This is most likely not a problem with node-gyp or the package itself and',
      'gyp ERR! not ok',
    ].join('\n')
    expect(why(gyp)).toBe('could not download https://electronjs.org/headers/v45.4.1/node-v45.4.1-headers.tar.gz')
    expect(why('gyp info spawn make\ngyp ERR! stack Error: not found: make\ngyp ERR! not ok\n')).toBe('not found: make')
    expect(why('prebuild-install warn install getaddrinfo ENOTFOUND github.com\n')).toBe(
      'prebuild-install warn install getaddrinfo ENOTFOUND github.com',
    )
    expect(why('')).toBeNull()
  })
})

describe('ensureElectronAddon', () => {
  it('downloads the prebuilt addon for Electron once, on a copy, and then uses the cached one', async () => {
    const { root, target, download, compile } = scratchProject({ download: 'works', compile: 'works' })
    const said: string[] = []
    const file = await ensureElectronAddon(target, (line) => said.push(line))
    expect(file).toBe(addonPath(target))
    expect(readFileSync(file, 'utf8')).toBe('addon')
    expect(calls(download)).toHaveLength(1)
    expect(calls(download)[0]!.args).toEqual([
      '--runtime',
      'electron',
      '--target',
      '45.4.1',
      '--arch',
      'x64',
      '--platform',
      'linux',
    ])
    // It worked on a copy without the Node build: the project's own addon is untouched.
    expect(calls(download)[0]!.cwd).not.toBe(join(root, 'node_modules', 'better-sqlite3'))
    expect(readFileSync(join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), 'utf8')).toBe(
      'the Node build',
    )
    expect(calls(compile)).toEqual([])
    expect(said[0]).toMatch(/^Preparing SQLite for Electron 45\.4\.1/)
    expect(readdirSync(dirname(file))).toEqual(['better_sqlite3.node'])

    expect(await ensureElectronAddon(target, (line) => said.push(line))).toBe(file)
    expect(calls(download)).toHaveLength(1)
  })

  it("compiles against Electron's headers when no prebuilt addon can be downloaded", async () => {
    const { target, download, compile } = scratchProject({ download: 'fails', compile: 'works' })
    const said: string[] = []
    const file = await ensureElectronAddon(target, (line) => said.push(line))
    expect(readFileSync(file, 'utf8')).toBe('addon')
    expect(calls(download)).toHaveLength(1)
    expect(calls(compile)[0]!.args).toEqual(
      expect.arrayContaining([
        'rebuild',
        '--release',
        '--target=45.4.1',
        '--runtime=electron',
        '--dist-url=https://electronjs.org/headers',
      ]),
    )
    expect(said.join('\n')).toContain('compiling it')
  })

  it('says why when neither way works, and leaves nothing half-made', async () => {
    const { target } = scratchProject({ download: 'fails', compile: 'fails' })
    await expect(ensureElectronAddon(target, () => {})).rejects.toThrow(
      'no SQLite addon for Electron 45.4.1: download failed: ERR! stand-in cannot reach the network; compile failed: ERR! stand-in cannot reach the network',
    )
    expect(readdirSync(dirname(addonPath(target)))).toEqual([])
  })

  it('stops its tools when asked to, and leaves nothing half-made', async () => {
    const { target, download, compile } = scratchProject({ download: 'hangs', compile: 'works' })
    const stop = new AbortController()
    const started = Date.now()
    const made = ensureElectronAddon(target, () => {}, stop.signal)
    await until(() => calls(download).length === 1, 5000, 'the download to start')
    stop.abort()
    await expect(made).rejects.toThrow('stopped: interrupted')
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(calls(compile)).toEqual([])
    expect(readdirSync(dirname(addonPath(target)))).toEqual([])
    // Room for a machine so busy that starting the stand-in tool takes seconds (seen once under a full suite).
  }, 60_000)

  it("only downloads another platform's addon: a compile here would build this machine's", async () => {
    const { target, compile } = scratchProject({ download: 'fails', compile: 'works' })
    const other = process.platform === 'win32' ? 'linux' : 'win32'
    await expect(ensureElectronAddon({ ...target, platform: other }, () => {})).rejects.toThrow(
      `no SQLite addon for Electron 45.4.1: download failed: ERR! stand-in cannot reach the network; compile: not possible for ${other}-x64 on ${process.platform}-${process.arch}`,
    )
    expect(calls(compile)).toEqual([])
  })

  it('fails with the real tools for an Electron that does not exist, online or not', async () => {
    const target: AddonTarget = { root: ROOT, electronVersion: '0.0.1-none', platform: 'linux', arch: 'x64' }
    try {
      await expect(ensureElectronAddon(target, () => {})).rejects.toThrow(
        /^no SQLite addon for Electron 0\.0\.1-none: download failed: .+; compile failed: .+/,
      )
      expect(readdirSync(dirname(addonPath(target)))).toEqual([])
    } finally {
      rmSync(dirname(addonPath(target)), { recursive: true, force: true })
    }
  }, 60_000)
})
