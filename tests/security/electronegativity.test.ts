/**
 * Electronegativity over src/ (scripts/audit-electron.mjs, also
 * `npm run audit:electron`): every finding is justified in docs/security.md,
 * and every justification there still matches a finding.
 */
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(__dirname, '../..')

interface Finding {
  id: string
  file: string
  line: number
  description: string
}

describe('electronegativity', () => {
  it('reports no finding that docs/security.md does not justify', () => {
    const audit = spawnSync(process.execPath, ['scripts/audit-electron.mjs', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(audit.error).toBeUndefined()
    let report: { findings: Finding[]; unjustified: Finding[]; stale: Finding[]; errors: unknown[] }
    try {
      report = JSON.parse(audit.stdout) as typeof report
    } catch {
      throw new Error(`the audit printed no report (exit ${audit.status}):\n${audit.stdout}\n${audit.stderr}`)
    }
    const show = (items: Finding[]) => items.map((f) => `${f.id} ${f.file}:${f.line} ${f.description ?? ''}`)
    expect(show(report.unjustified), 'findings to fix or justify in docs/security.md').toEqual([])
    expect(show(report.stale), 'justifications in docs/security.md that match no finding any more').toEqual([])
    expect(report.errors).toEqual([])
    // It did look: the shell's window code is where its checks bite.
    expect(report.findings.some((f) => f.file === 'src/main/shell/window.ts')).toBe(true)
    expect(audit.status).toBe(0)
  }, 60_000)
})
