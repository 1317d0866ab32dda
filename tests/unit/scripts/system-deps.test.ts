/**
 * scripts/system-deps.mjs, `npm test`'s first step: what is missing decides
 * what it runs or says (a fake probe and fake commands stand in for the
 * machine), and one real run here, where everything is installed, says
 * nothing and exits 0.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  PACKAGES,
  main,
  plan,
  systemProbe,
  type Abilities,
  type Has,
  type PackageRow,
} from '../../../scripts/system-deps.mjs'

const ROOT = resolve(__dirname, '../../..')
const row = (name: string) => PACKAGES.find((p) => p.name === name)!

const ROOT_APT: Abilities = { apt: true, root: true, sudo: false }
const SUDO_APT: Abilities = { apt: true, root: false, sudo: true }
const NO_SUDO: Abilities = { apt: true, root: false, sudo: false }
const NO_APT: Abilities = { apt: false, root: true, sudo: false }

/** A machine where `absent` is not installed until the install command ran (if it runs). */
function fakeMachine(absent: string[], abilities: Abilities, { installWorks = true } = {}) {
  const missing = new Set(absent)
  const ran: string[] = []
  const said: string[] = []
  const complained: string[] = []
  const probe = (has: Has) => !PACKAGES.some((p) => missing.has(p.name) && p.has === has)
  const exec = (command: string[]) => {
    ran.push(command.join(' '))
    if (command.includes('install') && installWorks) missing.clear()
    return { ok: true as const }
  }
  const code = main({
    probe,
    abilities: () => abilities,
    exec,
    say: (line) => said.push(line),
    complain: (line) => complained.push(line),
  })
  return { code, ran, said, complained }
}

describe('the package table', () => {
  it('names each package once, says what needs it and how to find it', () => {
    const names = PACKAGES.map((p) => p.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names).toEqual(
      expect.arrayContaining([
        'chromium',
        'nginx-light',
        'haproxy',
        'openssl',
        'ffmpeg',
        'python3-socketio',
        'python3-websocket',
        'python3-requests',
        'postgresql',
      ]),
    )
    for (const p of PACKAGES) {
      expect(p.for, p.name).toMatch(/\w/)
      expect('program' in p.has ? p.has.program!.length > 0 : typeof p.has.python === 'string', p.name).toBe(true)
    }
  })
})

describe('plan', () => {
  it('does nothing when nothing is missing, whatever the machine', () => {
    for (const abilities of [ROOT_APT, SUDO_APT, NO_SUDO, NO_APT])
      expect(plan([], abilities)).toEqual({ action: 'none' })
  })

  it('as root: apt-get update, then install exactly what is missing, non-interactively', () => {
    const decision = plan([row('chromium'), row('ffmpeg')], ROOT_APT)
    expect(decision).toEqual({
      action: 'install',
      commands: [
        ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-qq', '-o', 'DPkg::Lock::Timeout=120', 'update'],
        [
          'env',
          'DEBIAN_FRONTEND=noninteractive',
          'apt-get',
          '-qq',
          '-o',
          'DPkg::Lock::Timeout=120',
          'install',
          '-y',
          '--no-install-recommends',
          'chromium',
          'ffmpeg',
        ],
      ],
      message: 'system-deps: installing chromium (the browser tests), ffmpeg (the demo recording test) with apt-get',
    })
  })

  it('with passwordless sudo: the same through sudo -n', () => {
    const decision = plan([row('nginx-light')], SUDO_APT)
    expect(decision.action).toBe('install')
    if (decision.action !== 'install') return
    for (const command of decision.commands) expect(command.slice(0, 3)).toEqual(['sudo', '-n', 'env'])
    expect(decision.commands[1]!.at(-1)).toBe('nginx-light')
    expect(decision.message).toBe('system-deps: installing nginx-light (the reverse-proxy tests) with sudo apt-get')
  })

  it('without root or passwordless sudo: fails with the one command to run', () => {
    const decision = plan([row('chromium'), row('python3-socketio'), row('python3-websocket')], NO_SUDO)
    expect(decision).toEqual({
      action: 'fail',
      message:
        'system-deps: the tests need chromium (the browser tests), python3-socketio (the Python example agent), ' +
        'python3-websocket (the Python example agent), and this user cannot install them (not root, no passwordless sudo). ' +
        'Run: sudo apt-get update && sudo apt-get install -y chromium python3-socketio python3-websocket',
    })
  })

  it('without apt-get: fails naming the packages and the Debian command', () => {
    const decision = plan([row('openssl')], NO_APT)
    expect(decision.action).toBe('fail')
    expect(decision.action === 'fail' && decision.message).toBe(
      'system-deps: the tests need openssl (the TLS tests); there is no apt-get here to install them. ' +
        "On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y openssl (elsewhere, the same programs from your system's packages)",
    )
  })

  it('takes a new row without other changes', () => {
    const redis: PackageRow = { name: 'redis-server', for: 'the cluster tests', has: { program: ['redis-server'] } }
    const decision = plan([redis], NO_SUDO)
    expect(decision.action === 'fail' && decision.message).toMatch(/sudo apt-get install -y redis-server$/)
  })
})

describe('main', () => {
  it('says nothing, runs nothing and exits 0 when everything is there', () => {
    expect(fakeMachine([], ROOT_APT)).toEqual({ code: 0, ran: [], said: [], complained: [] })
  })

  it('installs what is missing, saying so in one line, and checks again', () => {
    const result = fakeMachine(['ffmpeg', 'python3-requests'], ROOT_APT)
    expect(result.code).toBe(0)
    expect(result.said).toEqual([
      'system-deps: installing ffmpeg (the demo recording test), python3-requests (the Python example agent) with apt-get',
    ])
    expect(result.ran.map((command) => command.split(' ').slice(-1)[0])).toEqual(['update', 'python3-requests'])
    expect(result.ran[1]).toContain('install -y --no-install-recommends ffmpeg python3-requests')
    expect(result.complained).toEqual([])
  })

  it('fails at once, running nothing, where it cannot install', () => {
    const result = fakeMachine(['chromium'], NO_SUDO)
    expect(result.code).toBe(1)
    expect(result.ran).toEqual([])
    expect(result.said).toEqual([])
    expect(result.complained).toHaveLength(1)
    expect(result.complained[0]).toMatch(/Run: sudo apt-get update && sudo apt-get install -y chromium$/)
  })

  it('fails when the packages are still missing after the install', () => {
    const result = fakeMachine(['nginx-light'], ROOT_APT, { installWorks: false })
    expect(result.code).toBe(1)
    expect(result.complained).toEqual([
      'system-deps: still missing after apt-get install: nginx-light (the reverse-proxy tests)',
    ])
  })

  it('fails naming the command when apt-get fails', () => {
    const complained: string[] = []
    const code = main({
      probe: (has) => has !== row('openssl').has,
      abilities: () => ROOT_APT,
      exec: (command) =>
        command.includes('update') ? { ok: true } : { ok: false, detail: 'exit 100: E: no space left' },
      say: () => {},
      complain: (line) => complained.push(line),
    })
    expect(code).toBe(1)
    expect(complained).toEqual([
      expect.stringMatching(
        /apt-get .* install -y --no-install-recommends openssl failed \(exit 100: E: no space left\)$/,
      ),
    ])
  })
})

describe('where a program is looked for', () => {
  it('takes $VAR/file as a path under that variable, and nothing when it is unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-deps-'))
    writeFileSync(join(dir, 'initdb'), '#!/bin/sh\n', { mode: 0o755 })
    const has = { program: ['$PG_BIN/initdb'] }
    expect(systemProbe({ PATH: '', PG_BIN: dir }, [])(has)).toBe(true)
    expect(systemProbe({ PATH: '' }, [])(has)).toBe(false)
    expect(systemProbe({ PATH: '', PG_BIN: join(dir, 'elsewhere') }, [])(has)).toBe(false)
  })
})

describe('on this machine', () => {
  it('finds everything installed: no output, exit 0', () => {
    const run = spawnSync(process.execPath, ['scripts/system-deps.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    })
  })
})
