import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AccessTokens } from '../../../src/main/core/auth/access'
import { withFileLock } from '../../../src/main/core/auth/file-lock'
import { addNamedToken, listTokens, revokeNamedToken } from '../../../src/main/core/auth/named-tokens'
import { loadTokens, MAX_NAMED_TOKENS, roleOf, rotateTokens } from '../../../src/main/core/auth/tokens'

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

describe('named tokens and what a running server accepts', () => {
  const logger = () => {
    const lines: string[] = []
    return {
      lines,
      info: (_o: object, m: string) => void lines.push(m),
      error: (_o: object, m: string) => void lines.push(m),
    }
  }

  it('identifies named tokens by name and role, and sees additions at once and revocations at the next check', () => {
    const dir = tempDir()
    loadTokens(dir, {})
    const log = logger()
    const access = new AccessTokens(dir, { env: {}, logger: log })
    let changes = 0
    access.onChange(() => changes++)
    expect(access.identify(access.builtin.viewer)).toEqual({ name: 'viewer', role: 'viewer' })

    // Added a moment after the server last looked: an unknown token makes it look again at once.
    expect(access.check()).toBe(false)
    const { token } = addNamedToken(dir, 'alice', 'operator')
    expect(access.identify(token)).toEqual({ name: 'alice', role: 'operator' })
    expect(access.accepts({ name: 'alice', role: 'operator' }, token)).toBe(true)

    revokeNamedToken(dir, 'alice')
    expect(access.identify(token)).toEqual({ name: 'alice', role: 'operator' })
    expect(access.check()).toBe(true)
    expect(access.identify(token)).toBeNull()
    expect(access.accepts({ name: 'alice', role: 'operator' }, token)).toBe(false)
    expect(changes).toBe(2)
  })

  it('keeps what it accepted when the file turns unreadable, and says so once', () => {
    const dir = tempDir()
    loadTokens(dir, {})
    const { token } = addNamedToken(dir, 'bob', 'viewer')
    const log = logger()
    const access = new AccessTokens(dir, { env: {}, logger: log })
    writeFileSync(join(dir, 'tokens.json'), '{"operator": ')
    expect(access.check()).toBe(false)
    expect(access.check()).toBe(false)
    expect(access.identify(token)).toEqual({ name: 'bob', role: 'viewer' })
    expect(log.lines.filter((l) => l.includes('cannot be read'))).toHaveLength(1)
  })

  it('keeps named tokens through --rotate-tokens, which replaces the three generated ones', () => {
    const dir = tempDir()
    const before = loadTokens(dir, {})
    addNamedToken(dir, 'carol', 'agent')
    rotateTokens(dir)
    const after = loadTokens(dir, {})
    expect(after.operator).not.toBe(before.operator)
    expect(listTokens(dir, {}).map((t) => t.name)).toContain('carol')
  })

  it('waits for a fresh lock on the tokens file and takes over a stale one', () => {
    const dir = tempDir()
    loadTokens(dir, {})
    const lock = join(dir, 'tokens.json.lock')
    writeFileSync(lock, '99999')
    expect(() => withFileLock(lock, () => 1, { waitMs: 100 })).toThrow(/held by another process/)
    utimesSync(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
    addNamedToken(dir, 'dave', 'viewer')
    expect(existsSync(lock)).toBe(false)
    expect(listTokens(dir, {}).map((t) => t.name)).toContain('dave')
  })

  it('refuses a tokens file whose named tokens are damaged, naming them', () => {
    const dir = tempDir()
    const stored = loadTokens(dir, {})
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ ...stored, named: [{ name: 'x', role: 'god' }] }))
    expect(() => loadTokens(dir, {})).toThrow(/named tokens are damaged/)
  })
})

describe('the bound on named tokens', () => {
  it(`refuses a token beyond ${MAX_NAMED_TOKENS}, saying so, and changes nothing`, () => {
    const dir = tempDir()
    const stored = loadTokens(dir, {})
    const named = Array.from({ length: MAX_NAMED_TOKENS }, (_, i) => ({
      name: `user-${i}`,
      role: 'viewer',
      sha256: '0'.repeat(60) + String(i).padStart(4, '0'),
      createdAt: 1,
    }))
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ ...stored, named }))
    const before = readFileSync(join(dir, 'tokens.json'), 'utf8')
    expect(() => addNamedToken(dir, 'one-more', 'viewer')).toThrow(/1000 named tokens exist/)
    expect(readFileSync(join(dir, 'tokens.json'), 'utf8')).toBe(before)
  })
})
