/**
 * The audit trail's write side: every operator action and every refused
 * token is one `AuditRecord`, written as one JSON line in the log at once
 * (`"audit":true`, never the token) and stored in the database in batches
 * (operator-store.ts) every `flushMs`. While the database takes no writes,
 * records wait in memory, at most `maxPending` (the oldest go first, counted
 * and said in the log; the log lines stay). Reads (`query`) first write what
 * waits, so an action is listed as soon as its answer has left. Retention:
 * like the task history's, by age and count, at start and every 10 min.
 */
import { AUDIT_LIMITS, AUTH_ACTION, type AuditPage, type AuditQuery, type AuditRecord } from '../../../shared/audit'
import type { OperatorStore } from './operator-store'

/** Where the server's parts hand their records. */
export interface AuditSink {
  record(record: AuditRecord): void
}

export interface AuditRetention {
  maxEntries: number
  maxAgeMs: number
}

export interface AuditTrailOptions {
  /** What it says about the database (a pino logger is one). */
  logger: { info(fields: object, message: string): void; warn(fields: object, message: string): void }
  retention: AuditRetention
  /** How long records wait to be written together; default 250 ms. */
  flushMs?: number
  /** Records kept in memory while the database takes none; default 10,000. */
  maxPending?: number
  now?: () => number
}

/** One line of at most `max` characters, without control characters (a NUL cannot even be stored in PostgreSQL). */
function clean(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, max)
}

/** The log line's message, as the lines before the audit trail said it. */
function logMessage(record: AuditRecord): string {
  if (record.action === AUTH_ACTION) return record.via === 'http' ? 'request refused' : 'connection refused'
  return record.outcome === 'ok' ? 'operator command' : 'operator command refused'
}

export class AuditTrail implements AuditSink {
  private pending: AuditRecord[] = []
  private writing: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private state: 'new' | 'open' | 'closed' = 'new'
  private lost = 0
  private failing = false
  private readonly now: () => number

  constructor(
    private readonly store: OperatorStore,
    private readonly options: AuditTrailOptions,
  ) {
    this.now = options.now ?? Date.now
  }

  record(input: AuditRecord): void {
    if (this.state === 'closed') return
    const record: AuditRecord = {
      ...input,
      address: clean(input.address, AUDIT_LIMITS.addressLength),
      action: clean(input.action, AUDIT_LIMITS.actionLength),
      target: input.target === null ? null : clean(input.target, AUDIT_LIMITS.targetLength),
      message: input.message === null ? null : clean(input.message, AUDIT_LIMITS.messageLength),
    }
    const { actor, role, address, via, action, target, outcome, code, message } = record
    const line = { audit: true, actor, role, address, via, action, target, outcome, code, reason: message }
    if (outcome === 'ok') this.options.logger.info(line, logMessage(record))
    else this.options.logger.warn(line, logMessage(record))
    this.pending.push(record)
    const max = this.options.maxPending ?? 10_000
    if (this.pending.length > max) {
      const dropped = this.pending.length - max
      this.pending.splice(0, dropped)
      if (this.lost === 0) {
        this.options.logger.warn(
          { waiting: max },
          'audit records wait for the database beyond the bound: the oldest are dropped from it (the log keeps them)',
        )
      }
      this.lost += dropped
    }
    this.schedule()
  }

  /** Writes start (once the database is open). */
  start(): void {
    if (this.state !== 'new') return
    this.state = 'open'
    this.schedule()
  }

  /** Records waiting for the database (they are in the log already). */
  get waiting(): number {
    return this.pending.length
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    await this.flush().catch(() => {})
    return this.store.audit(query)
  }

  /** Applies the retention; resolves with how many entries went. */
  async prune(): Promise<number> {
    const { maxEntries, maxAgeMs } = this.options.retention
    return this.store.pruneAudit(this.now() - maxAgeMs, maxEntries)
  }

  /** Writes what waits (as far as the database lets it); nothing more is recorded after. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.state === 'open') await this.flush().catch(() => {})
    this.state = 'closed'
  }

  private schedule(): void {
    if (this.state !== 'open' || this.timer || this.pending.length === 0) return
    const delay = this.failing ? 1000 : (this.options.flushMs ?? 250)
    this.timer = setTimeout(() => {
      this.timer = null
      this.flush().catch(() => {})
    }, delay)
    this.timer.unref()
  }

  /** Writes everything pending now, after the write in flight; rejects when the database refuses. */
  private async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => {})
    if (this.state !== 'open' || this.pending.length === 0) return
    const batch = this.pending
    this.pending = []
    this.writing = this.store.appendAudit(batch)
    try {
      await this.writing
      if (this.failing) this.options.logger.info({ lost: this.lost }, 'audit records are stored again')
      this.failing = false
      this.lost = 0
    } catch (error) {
      this.pending = [...batch, ...this.pending]
      if (!this.failing) {
        this.options.logger.warn(
          { err: error },
          'audit records cannot be stored now: they wait in memory (and are in the log); retrying every second',
        )
      }
      this.failing = true
      throw error
    } finally {
      this.writing = null
      this.schedule()
    }
  }
}
