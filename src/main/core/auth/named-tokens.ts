/**
 * The `swarm-monitor tokens` commands' work on the tokens file: add a named
 * token (shown once, kept as a digest), list them, revoke one. A running
 * server sees the change within `TOKEN_RELOAD_MS` (access.ts).
 */
import { type Role } from '../../../shared/domain'
import {
  ENV_NAMES,
  generateToken,
  MAX_NAMED_TOKENS,
  readTokensFile,
  tokenDigest,
  TOKEN_NAME_PATTERN,
  tokensFile,
  updateTokensFile,
} from './tokens'
import { existsSync } from 'node:fs'

export const BUILTIN_NAMES: readonly Role[] = ['operator', 'viewer', 'agent']

/** A refusal the command line prints as it is (exit code 2: the input; 1: the state of the file). */
export class TokenCommandError extends Error {
  override name = 'TokenCommandError'
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message)
  }
}

export function checkTokenName(name: string): void {
  if (!TOKEN_NAME_PATTERN.test(name)) {
    throw new TokenCommandError(
      `"${name.slice(0, 80)}" is not a token name: 1 to 64 letters, digits and . _ @ -, starting with a letter or digit`,
      2,
    )
  }
  if ((BUILTIN_NAMES as readonly string[]).includes(name.toLowerCase())) {
    throw new TokenCommandError(`"${name}" is the name of a generated token; choose another`, 2)
  }
}

/** Adds a named token; resolves with the token, which is nowhere else. */
export function addNamedToken(
  dataDir: string,
  name: string,
  role: Role,
  now = Date.now(),
): { token: string; file: string } {
  checkTokenName(name)
  const token = generateToken()
  updateTokensFile(dataDir, (current) => {
    if (current.named.some((entry) => entry.name.toLowerCase() === name.toLowerCase())) {
      throw new TokenCommandError(`a token named "${name}" exists already; revoke it first, or choose another name`, 1)
    }
    if (current.named.length >= MAX_NAMED_TOKENS) {
      throw new TokenCommandError(
        `${MAX_NAMED_TOKENS} named tokens exist, the most a server keeps; revoke some first`,
        1,
      )
    }
    const entry = { name, role, sha256: tokenDigest(token), createdAt: now }
    return { next: { ...current, named: [...current.named, entry] }, result: null }
  })
  return { token, file: tokensFile(dataDir) }
}

/** Removes a named token; resolves with its role. */
export function revokeNamedToken(dataDir: string, name: string): { role: Role; file: string } {
  if ((BUILTIN_NAMES as readonly string[]).includes(name.toLowerCase())) {
    throw new TokenCommandError(
      `"${name}" is one of the three generated tokens, which cannot be revoked one by one: start the server with --rotate-tokens to replace them`,
      2,
    )
  }
  const file = tokensFile(dataDir)
  if (!existsSync(file)) throw new TokenCommandError(`no token named "${name}" (there is no ${file} yet)`, 1)
  const role = updateTokensFile(dataDir, (current) => {
    const entry = current.named.find((e) => e.name.toLowerCase() === name.toLowerCase())
    if (!entry) throw new TokenCommandError(`no token named "${name}" in ${file}`, 1)
    return { next: { ...current, named: current.named.filter((e) => e !== entry) }, result: entry.role }
  })
  return { role, file }
}

export interface TokenListing {
  name: string
  role: Role
  /** `generated`: one of the three, in the file; `environment`: fixed by its variable; `named`: added by name. */
  source: 'generated' | 'environment' | 'named'
  /** Epoch ms a named token was added; null for the generated ones. */
  createdAt: number | null
}

/** Every token a server on this data dir accepts, without the tokens themselves. */
export function listTokens(dataDir: string, env: NodeJS.ProcessEnv = process.env): TokenListing[] {
  const file = tokensFile(dataDir)
  const named = existsSync(file) ? readTokensFile(file).named : []
  return [
    ...BUILTIN_NAMES.map((role) => ({
      name: role,
      role,
      source: env[ENV_NAMES[role]] ? ('environment' as const) : ('generated' as const),
      createdAt: null,
    })),
    ...named.map((entry) => ({
      name: entry.name,
      role: entry.role,
      source: 'named' as const,
      createdAt: entry.createdAt,
    })),
  ]
}
