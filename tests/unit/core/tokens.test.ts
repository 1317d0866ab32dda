import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadTokens, roleOf } from '../../../src/main/core/auth/tokens'

const tempDir = () => mkdtempSync(join(tmpdir(), 'sm-tokens-'))

describe('tokens', () => {
  it('generates three distinct tokens on first start, stored with mode 0600, and keeps them', () => {
    const dir = tempDir()
    const first = loadTokens(dir, {})
    expect(new Set(Object.values(first)).size).toBe(3)
    const file = join(dir, 'tokens.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first)
    expect(loadTokens(dir, {})).toEqual(first)
  })

  it('lets environment variables win without writing them to disk', () => {
    const dir = tempDir()
    const stored = loadTokens(dir, {})
    const fixed = loadTokens(dir, { SWARM_MONITOR_OPERATOR_TOKEN: 'operator-from-env-123456' })
    expect(fixed).toEqual({ ...stored, operator: 'operator-from-env-123456' })
    expect(readFileSync(join(dir, 'tokens.json'), 'utf8')).not.toContain('operator-from-env')
  })

  it('refuses a damaged tokens file instead of silently replacing it', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'tokens.json'), '{"operator": "short"}')
    expect(() => loadTokens(dir, {})).toThrow(/does not hold operator, viewer and agent tokens/)
  })

  it('maps a presented token to its role and nothing else', () => {
    const tokens = loadTokens(tempDir(), {})
    expect(roleOf(tokens, tokens.operator)).toBe('operator')
    expect(roleOf(tokens, tokens.viewer)).toBe('viewer')
    expect(roleOf(tokens, tokens.agent)).toBe('agent')
    expect(roleOf(tokens, tokens.operator + 'x')).toBeNull()
    expect(roleOf(tokens, '')).toBeNull()
    expect(roleOf(tokens, 42)).toBeNull()
    expect(roleOf(tokens, undefined)).toBeNull()
  })
})
