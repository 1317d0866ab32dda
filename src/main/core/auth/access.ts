/**
 * What a running server accepts: the three generated tokens (the
 * environment's where it fixes them) and the named ones of
 * `<data-dir>/tokens.json`, each with its name. The server looks at the
 * file once every `TOKEN_RELOAD_MS`, and at once when a token it does not
 * know is shown (a stat; read again only when it changed): a token added with `swarm-monitor
 * tokens add` works at once, a revoked one is refused within about a second,
 * and the connections opened with it are told (`onChange`) so the server
 * closes them. A file that turns unreadable while running changes nothing
 * (said once in the log) until it is fixed.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { statSync } from 'node:fs'
import type { Role } from '../../../shared/domain'
import { effectiveTokens, readTokensFile, tokensFile, type Tokens, type TokensFile } from './tokens'

/** How often a running server looks at the tokens file. */
export const TOKEN_RELOAD_MS = 1000

/** Who presented a token: its name (`operator`, `viewer`, `agent` for the generated ones) and role. */
export interface Identity {
  name: string
  role: Role
}

interface Entry extends Identity {
  digest: Buffer
}

const digest = (value: string) => createHash('sha256').update(value).digest()

export interface AccessTokensOptions {
  env: NodeJS.ProcessEnv
  /** What it says about the file (a pino logger is one). */
  logger: { info(fields: object, message: string): void; error(fields: object, message: string): void }
  reloadMs?: number
}

export class AccessTokens {
  private entries: Entry[] = []
  private builtinTokens: Tokens
  /** What the file looked like when last read: a change of any of these reads it again. */
  private signature = ''
  private timer: NodeJS.Timeout | null = null
  private readonly listeners = new Set<() => void>()
  private readonly file: string
  private brokenSignature: string | null = null

  constructor(
    dataDir: string,
    private readonly options: AccessTokensOptions,
  ) {
    this.file = tokensFile(dataDir)
    this.signature = this.stat()
    const stored = readTokensFile(this.file)
    this.builtinTokens = effectiveTokens(stored, options.env)
    this.entries = this.entriesOf(stored)
  }

  /** The three generated tokens (the environment's where it fixes them). */
  get builtin(): Tokens {
    return this.builtinTokens
  }

  /**
   * The identity a presented token stands for, or null. Every known token is
   * compared, in constant time over fixed-length digests, so timing says
   * neither whether nor which one matched.
   */
  identify(presented: unknown): Identity | null {
    if (typeof presented !== 'string' || presented.length === 0 || presented.length > 512) return null
    const given = digest(presented)
    const found = this.match(given)
    if (found) return found
    // Perhaps added a moment ago: a stat of the file (re-read only when it changed), however recent the last look.
    this.check()
    return this.match(given)
  }

  /** Whether a connection opened as `identity` may stay: its token still exists. */
  accepts(identity: Identity, presented: string): boolean {
    const found = this.match(digest(presented))
    return found !== null && found.name === identity.name && found.role === identity.role
  }

  /** Tells `listener` after every change of the accepted tokens; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.check(), this.options.reloadMs ?? TOKEN_RELOAD_MS)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Reads the file again if it changed; true when the accepted tokens did. */
  check(): boolean {
    const signature = this.stat()
    if (signature === this.signature) return false
    let stored: TokensFile
    let builtin: Tokens
    try {
      stored = readTokensFile(this.file)
      builtin = effectiveTokens(stored, this.options.env)
    } catch (error) {
      if (this.brokenSignature !== signature) {
        this.options.logger.error(
          { file: this.file, error: (error as Error).message },
          'the tokens file cannot be read: the tokens accepted before stay accepted until it is fixed',
        )
      }
      this.brokenSignature = signature
      return false
    }
    this.signature = signature
    this.brokenSignature = null
    const before = this.entries
    this.builtinTokens = builtin
    this.entries = this.entriesOf(stored)
    const same =
      before.length === this.entries.length &&
      before.every((entry, i) => {
        const next = this.entries[i]!
        return entry.name === next.name && entry.role === next.role && entry.digest.equals(next.digest)
      })
    if (same) return false
    this.options.logger.info(
      { file: this.file, named: stored.named.length },
      'tokens file changed: the tokens it holds now are accepted, others refused',
    )
    for (const listener of this.listeners) listener()
    return true
  }

  private match(given: Buffer): Identity | null {
    let found: Entry | null = null
    for (const entry of this.entries) {
      if (timingSafeEqual(given, entry.digest) && found === null) found = entry
    }
    return found && { name: found.name, role: found.role }
  }

  private entriesOf(stored: TokensFile): Entry[] {
    const builtin = effectiveTokens(stored, this.options.env)
    return [
      ...(['operator', 'viewer', 'agent'] as const).map((role) => ({
        name: role,
        role,
        digest: digest(builtin[role]),
      })),
      ...stored.named.map((entry) => ({
        name: entry.name,
        role: entry.role,
        digest: Buffer.from(entry.sha256, 'hex'),
      })),
    ]
  }

  private stat(): string {
    try {
      const stats = statSync(this.file, { bigint: true })
      return `${stats.ino}:${stats.size}:${stats.mtimeNs}`
    } catch {
      return 'missing'
    }
  }
}
