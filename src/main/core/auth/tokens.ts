/**
 * Access tokens in `<data-dir>/tokens.json` (mode 0600, always written whole
 * under a lock): the three generated ones, one per role, and named tokens
 * (`swarm-monitor tokens add`, named-tokens.ts), of which only a SHA-256
 * digest is kept. The generated ones may be fixed by environment variables
 * (never written to disk); `--rotate-tokens` replaces them and leaves named
 * tokens alone. What a running server accepts: access.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { ROLES, type Role } from '../../../shared/domain'
import type { Logger } from '../logger'
import { ConfigError } from '../start-error'
import { withFileLock } from './file-lock'

export type Tokens = Record<Role, string>

const ROLES_IN_FILE = ROLES
const TokenSchema = z
  .string()
  .min(16)
  .max(512)
  .regex(/^[\x21-\x7e]+$/)

/** A named token's name: what the audit trail and the logs show for whoever holds it. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
/** Named tokens a tokens file may hold. */
export const MAX_NAMED_TOKENS = 1000

export const NamedTokenSchema = z.object({
  name: z.string().regex(TOKEN_NAME_PATTERN),
  role: z.enum(ROLES_IN_FILE),
  /** Hex SHA-256 of the token: the token itself is shown once and kept nowhere. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number().int().min(0),
})
export type NamedToken = z.infer<typeof NamedTokenSchema>

const TokensFileSchema = z.object({
  operator: TokenSchema,
  viewer: TokenSchema,
  agent: TokenSchema,
  named: z.array(NamedTokenSchema).max(MAX_NAMED_TOKENS).default([]),
})
export type TokensFile = z.infer<typeof TokensFileSchema>

export const ENV_NAMES: Record<Role, string> = {
  operator: 'SWARM_MONITOR_OPERATOR_TOKEN',
  viewer: 'SWARM_MONITOR_VIEWER_TOKEN',
  agent: 'SWARM_MONITOR_AGENT_TOKEN',
}

export const TOKENS_FILE = 'tokens.json'

export const tokensFile = (dataDir: string) => join(dataDir, TOKENS_FILE)

export function generateToken(): string {
  return randomBytes(24).toString('base64url')
}

function generateAll(): Tokens {
  return { operator: generateToken(), viewer: generateToken(), agent: generateToken() }
}

/** Hex SHA-256 of a token, as named tokens are kept. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Writes the file whole or not at all, and 0600 whatever mode an older file had. */
export function writeTokensFile(file: string, tokens: TokensFile): void {
  const temporary = `${file}.${process.pid}.tmp`
  try {
    // Without named tokens, the file is what older versions wrote (and read).
    const { named, ...generated } = tokens
    const data = named.length > 0 ? tokens : generated
    writeFileSync(temporary, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 })
    chmodSync(temporary, 0o600)
    renameSync(temporary, file)
  } finally {
    rmSync(temporary, { force: true })
  }
}

/** Reads and checks the tokens file; throws an Error saying what is wrong with it. */
export function readTokensFile(file: string): TokensFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); fix or delete it to generate new tokens`)
  }
  const result = TokensFileSchema.safeParse(parsed)
  if (!result.success) {
    const named = result.error.issues.some((issue) => issue.path[0] === 'named')
    throw new Error(
      named
        ? `${file}: its named tokens are damaged (${result.error.issues[0]!.message}); fix them or remove the "named" list`
        : `${file} does not hold operator, viewer and agent tokens; fix or delete it`,
    )
  }
  const names = new Set<string>()
  for (const entry of result.data.named) {
    const key = entry.name.toLowerCase()
    if (names.has(key) || (ROLES_IN_FILE as readonly string[]).includes(key)) {
      throw new Error(`${file}: the token name "${entry.name}" is used twice; remove one`)
    }
    names.add(key)
  }
  return result.data
}

/**
 * Reads the tokens file, changes it with `change` and writes it whole, under
 * the data dir's tokens lock, so that two changes at once (a `tokens add`
 * while the server starts) both land. A missing file starts with three new
 * tokens.
 */
export function updateTokensFile<T>(
  dataDir: string,
  change: (current: TokensFile) => { next: TokensFile; result: T },
): T {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = tokensFile(dataDir)
  return withFileLock(`${file}.lock`, () => {
    const current = existsSync(file) ? readTokensFile(file) : { ...generateAll(), named: [] }
    const { next, result } = change(current)
    writeTokensFile(file, next)
    return result
  })
}

/** Where a role's token comes from, for the people who need it: its variable, or the tokens file. */
export function tokenSource(role: Role, dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV_NAMES[role]] ? `$${ENV_NAMES[role]}` : `"${role}" in ${tokensFile(dataDir)}`
}

/** The roles whose token the environment fixes: rotation does not touch those. */
export function tokensFromEnv(env: NodeJS.ProcessEnv = process.env): Role[] {
  return ROLES_IN_FILE.filter((role) => Boolean(env[ENV_NAMES[role]]))
}

/**
 * Replaces the three generated tokens with new ones, whatever the file held
 * (even a damaged file); every one given out before stops working at once.
 * Named tokens stay (revoke them one by one); a damaged file loses them.
 * Tokens fixed by environment variables are not in the file and stay as they are.
 */
export function rotateTokens(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = tokensFile(dataDir)
  withFileLock(`${file}.lock`, () => {
    let named: NamedToken[] = []
    try {
      if (existsSync(file)) named = readTokensFile(file).named
    } catch {
      // Damaged: replaced whole, as rotation always did.
    }
    writeTokensFile(file, { ...generateAll(), named })
  })
  return file
}

/** The generated tokens, with those the environment fixes in place of the file's. */
export function effectiveTokens(stored: Tokens, env: NodeJS.ProcessEnv): Tokens {
  const tokens = { operator: stored.operator, viewer: stored.viewer, agent: stored.agent }
  for (const role of ROLES_IN_FILE) {
    const fromEnv = env[ENV_NAMES[role]]
    if (fromEnv) tokens[role] = fromEnv
  }
  const distinct = new Set(Object.values(tokens))
  if (distinct.size !== ROLES_IN_FILE.length) throw new Error('operator, viewer and agent tokens must all differ')
  return tokens
}

/** Loads or creates the tokens; environment variables take precedence and are not persisted. */
export function loadTokens(dataDir: string, env: NodeJS.ProcessEnv = process.env): Tokens {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = tokensFile(dataDir)
  let stored: TokensFile
  if (existsSync(file)) {
    stored = readTokensFile(file)
    chmodSync(file, 0o600)
  } else {
    stored = updateTokensFile(dataDir, (current) => ({ next: current, result: current }))
  }
  return effectiveTokens(stored, env)
}

/**
 * The tokens at start: new ones first when asked (`--rotate-tokens`), which
 * the log says, naming the roles the environment fixes and rotation leaves
 * alone. A damaged tokens file or clashing token variables are a
 * ConfigError (exit 2), said plainly.
 */
export function startTokens(dataDir: string, rotate: boolean, env: NodeJS.ProcessEnv, logger: Logger): Tokens {
  if (rotate) {
    const file = rotateTokens(dataDir)
    const fixed = tokensFromEnv(env)
    logger.warn(
      { file, unchanged: fixed.length > 0 ? fixed : undefined },
      fixed.length > 0
        ? `tokens rotated: new tokens written to ${file}, the old ones no longer work; the ${fixed.join(', ')} token(s) come from the environment and were not rotated`
        : `tokens rotated: new tokens written to ${file}, the old ones no longer work`,
    )
  }
  try {
    return loadTokens(dataDir, env)
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * The role a presented token grants among the three generated ones, or null.
 * Every role is compared, in constant time over fixed-length digests, so
 * timing tells nothing. (A running server also knows named tokens: access.ts.)
 */
export function roleOf(tokens: Tokens, presented: unknown): Role | null {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 512) return null
  const given = digest(presented)
  let found: Role | null = null
  for (const role of ROLES_IN_FILE) {
    if (timingSafeEqual(given, digest(tokens[role]))) found = role
  }
  return found
}
