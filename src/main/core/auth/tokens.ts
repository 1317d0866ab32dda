/**
 * Access tokens: one per role. Fixed by environment variables (never written
 * to disk), otherwise generated on first start and kept in
 * `<data-dir>/tokens.json` with mode 0600; `--rotate-tokens` replaces them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import type { Role } from '../../../shared/domain'
import type { Logger } from '../logger'
import { ConfigError } from '../start-error'

export type Tokens = Record<Role, string>

const ROLES_IN_FILE = ['operator', 'viewer', 'agent'] as const satisfies readonly Role[]
const TokenSchema = z
  .string()
  .min(16)
  .max(512)
  .regex(/^[\x21-\x7e]+$/)
const TokensFileSchema = z.object({ operator: TokenSchema, viewer: TokenSchema, agent: TokenSchema })

export const ENV_NAMES: Record<Role, string> = {
  operator: 'SWARM_MONITOR_OPERATOR_TOKEN',
  viewer: 'SWARM_MONITOR_VIEWER_TOKEN',
  agent: 'SWARM_MONITOR_AGENT_TOKEN',
}

export const TOKENS_FILE = 'tokens.json'

function generate(): string {
  return randomBytes(24).toString('base64url')
}

function generateAll(): Tokens {
  return { operator: generate(), viewer: generate(), agent: generate() }
}

/** Writes the file whole or not at all, and 0600 whatever mode an older file had. */
function writeTokensFile(file: string, tokens: Tokens): void {
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 })
  chmodSync(temporary, 0o600)
  renameSync(temporary, file)
}

/** Where a role's token comes from, for the people who need it: its variable, or the tokens file. */
export function tokenSource(role: Role, dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV_NAMES[role]] ? `$${ENV_NAMES[role]}` : `"${role}" in ${join(dataDir, TOKENS_FILE)}`
}

/** The roles whose token the environment fixes: rotation does not touch those. */
export function tokensFromEnv(env: NodeJS.ProcessEnv = process.env): Role[] {
  return ROLES_IN_FILE.filter((role) => Boolean(env[ENV_NAMES[role]]))
}

/**
 * Replaces the tokens file with new tokens, whatever it held (even a damaged
 * file); every token given out before stops working at once. Tokens fixed by
 * environment variables are not in the file and stay as they are.
 */
export function rotateTokens(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = join(dataDir, TOKENS_FILE)
  writeTokensFile(file, generateAll())
  return file
}

/** Loads or creates the tokens; environment variables take precedence and are not persisted. */
export function loadTokens(dataDir: string, env: NodeJS.ProcessEnv = process.env): Tokens {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = join(dataDir, TOKENS_FILE)
  let stored: Tokens
  if (existsSync(file)) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new Error(
        `${file} is not valid JSON (${(error as Error).message}); fix or delete it to generate new tokens`,
      )
    }
    const result = TokensFileSchema.safeParse(parsed)
    if (!result.success) throw new Error(`${file} does not hold operator, viewer and agent tokens; fix or delete it`)
    stored = result.data
    chmodSync(file, 0o600)
  } else {
    stored = generateAll()
    writeTokensFile(file, stored)
  }
  const tokens = { ...stored }
  for (const role of ROLES_IN_FILE) {
    const fromEnv = env[ENV_NAMES[role]]
    if (fromEnv) tokens[role] = fromEnv
  }
  const distinct = new Set(Object.values(tokens))
  if (distinct.size !== ROLES_IN_FILE.length) throw new Error('operator, viewer and agent tokens must all differ')
  return tokens
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
 * The role a presented token grants, or null. Every role is compared, in
 * constant time over fixed-length digests, so timing tells nothing.
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
