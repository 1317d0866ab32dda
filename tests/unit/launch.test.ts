import { describe, expect, it } from 'vitest'
import { chooseMode, fallbackMessage, fallbackReason, hasDisplay, type LaunchContext } from '../../src/main/launch-mode'

const ELECTRON_MISSING =
  'Electron failed to install correctly. Please delete `node_modules/electron` and run "npx install-electron --no" manually.'

function context(overrides: Partial<LaunchContext> = {}): LaunchContext {
  return {
    args: [],
    platform: 'linux',
    env: { DISPLAY: ':0' },
    resolveElectron: () => '/repo/node_modules/electron/dist/electron',
    fileExists: () => true,
    ...overrides,
  }
}

describe('chooseMode', () => {
  it('starts Electron when the runtime resolves and there is a display', () => {
    expect(chooseMode(context())).toEqual({ mode: 'electron', binary: '/repo/node_modules/electron/dist/electron' })
    expect(chooseMode(context({ env: { WAYLAND_DISPLAY: 'wayland-0' } })).mode).toBe('electron')
  })

  it('serves headless when the runtime is not installed, quoting the package', () => {
    const mode = chooseMode(
      context({
        resolveElectron: () => {
          throw new Error(ELECTRON_MISSING)
        },
      }),
    )
    expect(mode).toEqual({
      mode: 'headless',
      reason:
        'runtime not installed: Electron failed to install correctly. Please delete `node_modules/electron` and run "npx install-electron --no" manually',
    })
  })

  it('serves headless when the resolved binary does not exist (ELECTRON_OVERRIDE_DIST_PATH to nowhere)', () => {
    const mode = chooseMode(context({ resolveElectron: () => '/nowhere/electron', fileExists: () => false }))
    expect(mode).toEqual({ mode: 'headless', reason: 'runtime not installed: /nowhere/electron does not exist' })
  })

  it('serves headless on Linux without a display, without even resolving the runtime', () => {
    let resolved = false
    const mode = chooseMode(
      context({
        env: { DISPLAY: '', HOME: '/root' },
        resolveElectron: () => {
          resolved = true
          return '/x/electron'
        },
      }),
    )
    expect(mode).toEqual({ mode: 'headless', reason: 'no display: neither DISPLAY nor WAYLAND_DISPLAY is set' })
    expect(resolved).toBe(false)
  })

  it('needs no DISPLAY on Windows or macOS', () => {
    expect(chooseMode(context({ platform: 'win32', env: {} })).mode).toBe('electron')
    expect(chooseMode(context({ platform: 'darwin', env: {} })).mode).toBe('electron')
  })

  it('answers --help and --version headless and quietly', () => {
    for (const flag of ['--help', '-h', '--version', '-V']) {
      expect(chooseMode(context({ args: ['--port', '0', flag] }))).toEqual({ mode: 'headless', reason: null })
    }
  })

  it('handles a non-Error throw from the resolver', () => {
    const mode = chooseMode(
      context({
        resolveElectron: () => {
          throw 'boom\nsecond line'
        },
      }),
    )
    expect(mode).toEqual({ mode: 'headless', reason: 'runtime not installed: boom' })
  })
})

describe('hasDisplay', () => {
  it('reads DISPLAY and WAYLAND_DISPLAY on Linux and the BSDs', () => {
    expect(hasDisplay('linux', {})).toBe(false)
    expect(hasDisplay('linux', { DISPLAY: ':99' })).toBe(true)
    expect(hasDisplay('freebsd', { WAYLAND_DISPLAY: 'wayland-1' })).toBe(true)
  })
})

describe('fallbackReason', () => {
  const base = { windowReady: false, startFailed: false, code: 0, signal: null, spawnError: null, interrupted: false }

  it('falls back when Electron fails before its window opened', () => {
    expect(fallbackReason({ ...base, code: 1 })).toBe('it exited with code 1 before its window opened')
    expect(fallbackReason({ ...base, code: null, signal: 'SIGTRAP' })).toBe(
      'it was killed by SIGTRAP before its window opened',
    )
    expect(fallbackReason({ ...base, code: null, spawnError: 'spawn EACCES' })).toBe('could not run it: spawn EACCES')
  })

  it('does not fall back after a clean exit, after the window opened, or when the user stopped it', () => {
    expect(fallbackReason(base)).toBeNull()
    expect(fallbackReason({ ...base, windowReady: true, code: 1 })).toBeNull()
    expect(fallbackReason({ ...base, interrupted: true, code: null, signal: 'SIGINT' })).toBeNull()
  })

  it('does not fall back when the app itself failed to start: headless would only repeat the error', () => {
    expect(fallbackReason({ ...base, startFailed: true, code: 1 })).toBeNull()
  })
})

describe('fallbackMessage', () => {
  it('is one line naming the reason and the fallback', () => {
    const message = fallbackMessage('no display: neither DISPLAY nor WAYLAND_DISPLAY is set')
    expect(message).toBe(
      'Electron cannot start here (no display: neither DISPLAY nor WAYLAND_DISPLAY is set); serving headless instead.',
    )
    expect(message).not.toContain('\n')
  })
})
