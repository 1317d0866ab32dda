/**
 * Audit records (shared/audit.ts) as the server makes them: one for each
 * operator action, whatever its outcome, and one for each refused token. The
 * sink (storage/audit-trail.ts) logs and stores them.
 */
import { AUTH_ACTION, type AuditChannel, type AuditRecord } from '../../../shared/audit'
import type { Role } from '../../../shared/domain'
import type { ErrorCode, Result } from '../../../shared/result'
import type { Identity } from '../auth/access'
import type { AuditSink } from '../storage/audit-trail'

/** Who acts, as the audit trail names them. */
export interface Actor {
  name: string
  role: Role
  /** The client's address (auth.ts `clientAddress`). */
  address: string
  via: AuditChannel
}

/** Where a command's record goes; absent (unit tests of the commands), nothing is recorded. */
export interface Audited {
  actor?: Actor
  audit?: AuditSink
}

/**
 * Records an action's outcome; `result` null: the handler failed (a bug, answered `internal`). `note`: the message
 * of an action that succeeded (a bulk action's counts); a refusal's message is its error's.
 */
export function recordAction(
  { actor, audit }: Audited,
  action: string,
  target: string | null,
  result: Result<unknown> | null,
  note: string | null = null,
): void {
  if (!actor || !audit) return
  audit.record({
    at: Date.now(),
    actor: actor.name,
    role: actor.role,
    address: actor.address,
    via: actor.via,
    action,
    target,
    outcome: result === null ? 'failed' : result.ok ? 'ok' : 'refused',
    code: result === null ? 'internal' : result.ok ? null : result.error.code,
    message: result === null ? 'the server failed to handle it' : result.ok ? note : result.error.message,
  })
}

/** Records a refused token at `door` (`GET /api/tasks`, `/dashboard`, `/agents`). */
export function recordRefusal(
  audit: AuditSink,
  refused: { identity: Identity | null; code: ErrorCode; reason: string },
  where: { address: string; via: AuditChannel; door: string },
): void {
  const record: AuditRecord = {
    at: Date.now(),
    actor: refused.identity?.name ?? null,
    role: refused.identity?.role ?? null,
    address: where.address,
    via: where.via,
    action: AUTH_ACTION,
    target: where.door,
    outcome: 'refused',
    code: refused.code,
    message: refused.reason,
  }
  audit.record(record)
}

/** A string field of an input that may be anything (the target of a refused command), or null. */
export function fieldOf(input: unknown, key: string): string | null {
  if (typeof input !== 'object' || input === null) return null
  const value = (input as Record<string, unknown>)[key]
  return typeof value === 'string' ? value : null
}
