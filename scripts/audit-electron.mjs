#!/usr/bin/env node
/**
 * `npm run audit:electron`: Doyensec's electronegativity over src/, every
 * finding matched against the justifications in docs/security.md
 * ("Electronegativity findings"). Exits 1 on a finding nobody justified, and
 * on a justification that no longer matches a finding (the docs stay true).
 * `--json` prints the result as JSON; `--online` also runs the one check that
 * needs the network (known fixes in newer Electron releases).
 *
 * Why not its CLI: electronegativity 1.10's `dist/index.js` uses commander
 * without declaring it, so it picks up this project's commander 14 and dies
 * ("_commander2.default.version is not a function"); an npm `overrides`
 * entry cannot pin a dependency it does not declare. Its documented
 * programmatic entry (`run(options)`) needs no commander. Its translations
 * are fetched from the network at start (1 s timeout); here they are loaded
 * from the files it ships, so the audit runs offline.
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SCANNED = 'src'
const DOCS = join(ROOT, 'docs/security.md')
const online = process.argv.includes('--online')
const asJson = process.argv.includes('--json')

const require = createRequire(import.meta.url)
const runnerPath = require.resolve('@doyensec/electronegativity')
const i18nPath = join(dirname(runnerPath), 'locales', 'i18n.js')
const i18n = createRequire(runnerPath)('i18n')
// Replaces the module that downloads translations with one that uses the bundled English ones.
require.cache[i18nPath] = {
  id: i18nPath,
  filename: i18nPath,
  loaded: true,
  exports: async () => {
    i18n.configure({
      locales: ['en-US'],
      defaultLocale: 'en-US',
      directory: dirname(i18nPath),
      updateFiles: false,
      objectNotation: true,
      register: globalThis,
    })
    i18n.setLocale('en-US')
  },
}
const run = require(runnerPath)
const electronVersion = require('electron/package.json').version

/** `| CHECK_ID | path | why |` rows of the "Electronegativity findings" section. */
function justifications() {
  const text = readFileSync(DOCS, 'utf8')
  const start = text.indexOf('## Electronegativity findings')
  if (start < 0) throw new Error(`${DOCS} has no "## Electronegativity findings" section`)
  const end = text.indexOf('\n## ', start + 1)
  const rows = []
  for (const line of text.slice(start, end < 0 ? undefined : end).split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim().replace(/^`|`$/g, ''))
    if (cells.length < 5 || !/^[A-Z_]+$/.test(cells[1])) continue
    rows.push({ id: cells[1], file: cells[2], why: cells[3] })
  }
  return rows
}

const result = await run(
  {
    input: join(ROOT, SCANNED),
    isRelative: true,
    electronVersionOverride: electronVersion,
    excludeFromScan: online ? [] : ['AvailableSecurityFixesGlobalCheck'],
    customScan: [],
  },
  false,
)

const findings = result.issues.map((issue) => ({
  id: issue.id,
  file: issue.file === 'N/A' ? 'N/A' : relative(ROOT, join(ROOT, SCANNED, issue.file)),
  line: issue.location?.line ?? 0,
  severity: issue.severity?.name,
  confidence: issue.confidence?.name,
  description: issue.description,
}))
const justified = justifications()
const key = (f) => `${f.id} ${f.file}`
const justifiedKeys = new Set(justified.filter((j) => j.why.length > 0).map(key))
const foundKeys = new Set(findings.map(key))
const unjustified = findings.filter((f) => !justifiedKeys.has(key(f)))
const stale = justified.filter((j) => !foundKeys.has(key(j)))
const errors = result.errors.filter((error) => !error.tolerable)

const report = {
  electronVersion,
  checks: result.globalChecks + result.atomicChecks,
  findings,
  unjustified,
  stale,
  errors,
}
if (asJson) {
  process.stdout.write(JSON.stringify(report, null, 2) + '\n')
} else {
  process.stdout.write(
    `electronegativity over ${SCANNED}/ (Electron ${electronVersion}, ${report.checks} checks): ` +
      `${findings.length} findings, ${findings.length - unjustified.length} justified in docs/security.md\n`,
  )
  for (const f of unjustified) {
    process.stdout.write(`  UNJUSTIFIED ${f.id} ${f.file}:${f.line} (${f.severity}) ${f.description}\n`)
  }
  for (const j of stale) process.stdout.write(`  STALE justification, no such finding any more: ${j.id} ${j.file}\n`)
  for (const e of errors) process.stdout.write(`  PARSE ERROR ${e.file}: ${e.message}\n`)
}
process.exit(unjustified.length + stale.length + errors.length > 0 ? 1 : 0)
