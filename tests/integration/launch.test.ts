/**
 * `npm start`'s launcher as a process (built out/main/launch.js). Electron's
 * runtime cannot be installed here, so a stand-in runtime (a Node script with
 * Electron's dist layout, through ELECTRON_OVERRIDE_DIST_PATH, the electron
 * package's own override) checks what the launcher hands to Electron: the
 * app folder, the user's flags and the SQLite addon built for that Electron.
 * The window itself is not tested here; see tests/e2e for the UI in Chromium.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addonPath } from '../../src/main/electron-sqlite'
import { TOKEN_ENV } from '../helpers/core'
import { ROOT, builtEntry, run, type RunningProcess } from '../helpers/process'

const running: RunningProcess[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.stop()))
  for (const cleanup of cleanups.splice(0)) cleanup()
})

const dataDir = () => mkdtempSync(join(tmpdir(), 'sm-launch-'))

/** A stand-in Electron runtime of the given version: reports what it got on stdout, then says its window is ready. */
function standInRuntime(version: string): { dist: string; report: string } {
  const dist = mkdtempSync(join(tmpdir(), 'sm-electron-dist-'))
  const report = join(dist, 'report.json')
  writeFileSync(join(dist, 'version'), `v${version}\n`)
  writeFileSync(
    join(dist, 'electron'),
    `#!${process.execPath}
require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({
  args: process.argv.slice(2),
  addon: process.env.SWARM_MONITOR_SQLITE_ADDON ?? null,
}))
console.log('window ready')
process.on('SIGTERM', () => process.exit(0))
setInterval(() => {}, 1000)
`,
  )
  chmodSync(join(dist, 'electron'), 0o755)
  return { dist, report }
}

function launch(args: string[], env: NodeJS.ProcessEnv): RunningProcess {
  const launcher = run(builtEntry('launch'), ['--data-dir', dataDir(), '--no-demo', '--local-agents', '0', ...args], {
    ...TOKEN_ENV,
    ...env,
  })
  running.push(launcher)
  return launcher
}

const fallbackLines = (launcher: RunningProcess) => launcher.stderr().match(/^Electron cannot start here.*$/gm) ?? []

describe('npm start (built out/main/launch.js)', () => {
  it('serves headless with one line saying why when there is no display', async () => {
    const launcher = launch(['--port', '0'], { DISPLAY: '', WAYLAND_DISPLAY: '' })
    await launcher.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/)
    expect(fallbackLines(launcher)).toEqual([
      'Electron cannot start here (no display: neither DISPLAY nor WAYLAND_DISPLAY is set); serving headless instead.',
    ])
  })

  it('hands Electron the app, the flags and the SQLite addon built for its version', async () => {
    const { dist, report } = standInRuntime('0.0.3-test')
    const addon = addonPath({
      root: ROOT,
      electronVersion: '0.0.3-test',
      platform: process.platform,
      arch: process.arch,
    })
    mkdirSync(dirname(addon), { recursive: true })
    writeFileSync(addon, 'stand-in addon')
    cleanups.push(() => rmSync(dirname(addon), { recursive: true, force: true }))

    const launcher = launch(['--port', '0', '--log-level', 'warn'], {
      DISPLAY: ':99',
      ELECTRON_OVERRIDE_DIST_PATH: dist,
    })
    await launcher.waitFor(/^window ready$/m)
    const got = JSON.parse(readFileSync(report, 'utf8')) as { args: string[]; addon: string | null }
    expect(got.args[0]).toBe(ROOT)
    expect(got.args).toEqual(expect.arrayContaining(['--port', '0', '--log-level', 'warn', '--no-demo']))
    expect(got.addon).toBe(addon)
    expect(fallbackLines(launcher)).toEqual([])
    expect(launcher.stdout()).not.toMatch(/listening on/)
    expect(await launcher.stop()).toBe(0)
  })

  it('hands over the SQLite addon the environment names, without preparing one', async () => {
    const { dist, report } = standInRuntime('0.0.4-test')
    const launcher = launch(['--port', '0'], {
      DISPLAY: ':99',
      ELECTRON_OVERRIDE_DIST_PATH: dist,
      SWARM_MONITOR_SQLITE_ADDON: '/opt/addons/better_sqlite3.node',
    })
    await launcher.waitFor(/^window ready$/m)
    expect((JSON.parse(readFileSync(report, 'utf8')) as { addon: string }).addon).toBe(
      '/opt/addons/better_sqlite3.node',
    )
    expect(launcher.stderr()).not.toContain('Preparing SQLite')
  })

  it('serves headless, saying why, when no SQLite addon can be had for that Electron', async () => {
    // No such Electron exists anywhere, so this fails the same way with a network or without one.
    const { dist, report } = standInRuntime('0.0.2-none')
    const cache = dirname(
      addonPath({ root: ROOT, electronVersion: '0.0.2-none', platform: process.platform, arch: process.arch }),
    )
    cleanups.push(() => rmSync(cache, { recursive: true, force: true }))

    const launcher = launch(['--port', '0'], { DISPLAY: ':99', ELECTRON_OVERRIDE_DIST_PATH: dist })
    await launcher.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 60_000)
    expect(launcher.stderr()).toContain('Preparing SQLite for Electron 0.0.2-none')
    expect(fallbackLines(launcher)).toHaveLength(1)
    expect(fallbackLines(launcher)[0]).toMatch(
      /^Electron cannot start here \(no SQLite addon for Electron 0\.0\.2-none: download failed: .+; compile failed: .+\); serving headless instead\.$/,
    )
    expect(() => readFileSync(report)).toThrow() // Electron was never started
  }, 90_000)
})
