/**
 * docs/deployment.md's configuration reference follows the program. The
 * options are read from the real commander program (`configOptions()` and the
 * `--help` text), so a flag added without documentation, a renamed
 * environment variable or file key, or a changed default fails here. Also:
 * every SWARM_MONITOR_* variable the docs and deploy files name is one the
 * program reads; deploy/config.example.yaml loads and sets every key a config
 * file accepts; the systemd unit's command line loads; README's flag table,
 * while README has one, lists every flag.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { ENV_NAMES } from '../../../src/main/core/auth/tokens'
import { configOptions, ConfigError, loadConfig, type Config } from '../../../src/main/core/config/config'
import { DEFAULT_LIMITS } from '../../../src/main/core/server/limits'
import { ADDON_ENV } from '../../../src/main/electron-sqlite'
import { PACK_ADDON_ENV } from '../../../scripts/electron-builder/after-pack'

const ROOT = join(__dirname, '../../..')
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

const doc = read('docs/deployment.md')
const readme = read('README.md')
const example = read('deploy/config.example.yaml')
const unit = read('deploy/systemd/swarm-monitor.service')
const options = configOptions()
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** From a heading line to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string | null {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => line.trim() === heading)
  if (start < 0) return null
  const level = heading.indexOf(' ')
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && line.indexOf(' ') <= level)
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n')
}

/** The rows of the markdown tables in `text`, as trimmed cells (header and rule rows dropped). */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .map((line) =>
      line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split('|')
        .map((cell) => cell.trim()),
    )
}

/** The long options `--help` prints, `--help` itself included. */
function helpLongOptions(): string[] {
  try {
    loadConfig(['--help'], {})
  } catch (error) {
    if (!(error instanceof ConfigError) || error.exitCode !== 0) throw error
    const options = error.message.split('\nOptions:\n')[1]!.split('\n\n')[0]!
    return [...new Set([...options.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((match) => match[1]!))]
  }
  throw new Error('--help printed nothing')
}

const reference = section(doc, '### Flags, environment variables and config-file keys')
const rows = reference === null ? [] : tableRows(reference).filter((cells) => cells[0]!.startsWith('`-'))
const rowOf = (flags: string) => rows.find((cells) => cells[0]!.includes(`\`${flags}\``))
const flagsOfRow = (cells: string[]) => [...cells[0]!.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0])

const ENV_PATTERN = /\bSWARM_MONITOR_[A-Z][A-Z0-9_]*[A-Z0-9]\b/g
const envNamesIn = (text: string) => [...new Set(text.match(ENV_PATTERN) ?? [])]
const baseline = loadConfig([], {})
const differs = (config: Config) => JSON.stringify(config) !== JSON.stringify(baseline)

describe('docs/deployment.md: the configuration reference', () => {
  it('has the table, and the program has its options', () => {
    expect(reference, 'the "### Flags, environment variables and config-file keys" section').not.toBeNull()
    expect(rows.length).toBeGreaterThan(10)
    expect(options.map((option) => option.long)).toEqual(expect.arrayContaining(['--host', '--port', '--config']))
  })

  it.each(options.map((option) => [option.long, option] as const))('documents %s', (_long, option) => {
    const cells = rowOf(option.flags)
    expect(cells, `a row whose flag cell is \`${option.flags}\``).toBeDefined()
    const [, env, fileKey, fallback] = cells!

    if (option.env) expect(env, 'its environment variable').toContain(`\`${option.env}\``)
    else if (option.long === '--rotate-tokens') expect(env).toBe('flag only')
    else if (option.long === '--version') expect(env).toBe('—')
    // A boolean flag: loadConfig reads its variable itself (checked for effect below).
    else expect(env, 'its environment variable').toMatch(/`SWARM_MONITOR_[A-Z_]+`/)

    if (option.fileKey) expect(fileKey, 'its config-file key').toMatch(new RegExp(`\`${option.fileKey}[\`:]`))
    else expect(fileKey, 'no config-file key').toBe('—')

    if (option.long === '--data-dir') expect(fallback).toContain('~/.local/share/swarm-monitor')
    else if (option.long === '--local-agents') expect(fallback).toBe('one per CPU core')
    else if (typeof option.default === 'number' || typeof option.default === 'string') {
      expect(fallback, 'its default').toContain(`\`${option.default}\``)
    }
  })

  it('documents every option --help prints, --help included, and no option the program lacks', () => {
    const documented = rows.flatMap(flagsOfRow)
    const printed = helpLongOptions()
    expect(printed).toContain('--help')
    for (const long of printed) expect(documented, long).toContain(long)
    for (const long of documented) expect(printed, `${long} is documented but not a flag`).toContain(long)
  })

  it('names, for each boolean flag, an environment variable that does what the flag does', () => {
    for (const option of options.filter((option) => option.env === null && option.fileKey !== null)) {
      const name = rowOf(option.flags)![1]!.match(/`(SWARM_MONITOR_[A-Z_]+)`/)![1]!
      const key = option.fileKey as keyof Config
      expect(loadConfig([], { [name]: '1' })[key], `${name}=1 acts like ${option.long}`).toEqual(
        loadConfig([option.long], {})[key],
      )
    }
  })

  it('lists every protocol limit with the name the code gives it', () => {
    const limits = section(doc, '### Limits and other fixed settings')
    expect(limits).not.toBeNull()
    for (const key of Object.keys(DEFAULT_LIMITS)) expect(limits, key).toContain(`\`${key}\``)
  })
})

describe('SWARM_MONITOR_* variables named in the docs and deploy files', () => {
  const known = new Set<string>([
    ...options.flatMap((option) => (option.env ? [option.env] : [])),
    ...Object.values(ENV_NAMES),
    // The SQLite addon for Electron (src/main/electron-sqlite.ts, scripts/electron-builder/after-pack.ts).
    ADDON_ENV,
    PACK_ADDON_ENV,
  ])
  const files = [
    'docs/deployment.md',
    'docs/troubleshooting.md',
    'docs/security.md',
    'README.md',
    'deploy/config.example.yaml',
    'deploy/systemd/swarm-monitor.service',
  ]

  it.each(files)('exist in the program: %s', (file) => {
    for (const name of envNamesIn(read(file))) {
      if (known.has(name)) continue
      // Read by loadConfig itself (the boolean flags): setting it changes the configuration.
      const acts = ['1', '0'].some((value) => differs(loadConfig([], { [name]: value })))
      expect(acts, `${file} names ${name}, which the program does not read`).toBe(true)
    }
  })

  it('include every variable the program reads, in docs/deployment.md', () => {
    for (const name of known) expect(doc, name).toContain(name)
  })
})

describe('deploy/config.example.yaml', () => {
  const fileKeys = [...new Set(options.flatMap((option) => (option.fileKey ? [option.fileKey] : [])))]
  const data = parseYaml(example) as Record<string, unknown>

  it('loads through --config without error, and every value it sets is taken', () => {
    const config = loadConfig(['--config', join(ROOT, 'deploy/config.example.yaml')], {})
    for (const [key, value] of Object.entries(data)) expect(config[key as keyof Config], key).toEqual(value)
  })

  it('sets every key a config file accepts, and only those', () => {
    expect(Object.keys(data).sort()).toEqual([...fileKeys].sort())
  })

  it('says which flag each key stands for', () => {
    for (const option of options.filter((option) => option.fileKey !== null)) {
      expect(example, option.long).toMatch(new RegExp(`${escape(option.long)}\\b(?!-)`))
    }
  })

  it('is what the file format accepts: a key it does not know is refused', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sm-docs-')), 'config.yaml')
    writeFileSync(file, `${example}\nnoSuchSetting: 1\n`)
    expect(() => loadConfig(['--config', file], {})).toThrow('unknown setting "noSuchSetting"')
  })
})

describe('deploy/systemd/swarm-monitor.service', () => {
  it('starts with a command line and environment the program accepts', () => {
    const exec = unit.match(/^ExecStart=\S+ \S+cli\.js(.*)$/m)
    expect(exec, 'ExecStart=… out/main/cli.js …').not.toBeNull()
    const env = Object.fromEntries(
      [...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!]),
    )
    const config = loadConfig(exec![1]!.trim().split(/\s+/).filter(Boolean), env)
    expect(config.dataDir).toBe('/var/lib/swarm-monitor')
    expect(unit).toContain('StateDirectory=swarm-monitor')
    expect(config.demo).toBe(false)
  })
})

describe('README.md', () => {
  it('lists every flag in its flag table, while it has one', () => {
    const flags = section(readme, '### Flags')
    if (flags === null || !/^\| *flag *\|/m.test(flags)) return
    for (const option of options.filter((option) => option.long !== '--version')) {
      expect(flags, option.long).toMatch(new RegExp(`\`${escape(option.long)}[\` ]`))
    }
  })
})
