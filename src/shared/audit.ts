/**
 * The audit trail's shapes: who did what, from where, and how it ended.
 * Zod-free (the renderer's Audit section reads them); the server validates
 * the query in `main/core/server/operator-routes.ts`.
 */
import type { Role } from './domain'
import type { ErrorCode } from './result'

export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const
/** `ok`: done; `refused`: answered with an error (a bad token, the wrong role, bad input, a state that forbids it); `failed`: a server bug. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number]

export const AUDIT_CHANNELS = ['http', 'socket'] as const
export type AuditChannel = (typeof AUDIT_CHANNELS)[number]

/** The action of a refused token: `target` says which door (`GET /api/tasks`, `/dashboard`, `/agents`). */
export const AUTH_ACTION = 'auth'

export const AUDIT_LIMITS = {
  /** Entries a page holds at most, and by default. */
  pageMax: 500,
  pageDefault: 100,
  /** Stored lengths; longer text is cut. */
  actionLength: 64,
  targetLength: 256,
  messageLength: 500,
  addressLength: 64,
} as const

/** One recorded action or refusal, as it is written (the store numbers it). */
export interface AuditRecord {
  /** Epoch ms. */
  at: number
  /** The token's name (`operator`, `viewer`, `agent` for the generated ones); null when no known token was shown. */
  actor: string | null
  role: Role | null
  /** The client's address (behind a proxy on this machine: the one it heard the request from). */
  address: string
  via: AuditChannel
  /** A command name (`task:cancel`, `view:save`, …) or `auth` for a refused token. */
  action: string
  /** What it was about: a task, agent, alert or view id, a view name, the door of a refusal; null when nothing. */
  target: string | null
  outcome: AuditOutcome
  /** The refusal's code and message; null when `ok`. */
  code: ErrorCode | null
  message: string | null
}

export interface AuditEntry extends AuditRecord {
  /** Increasing: a later entry has a larger id. */
  id: number
}

/** `GET /api/audit`'s filters, as the store takes them. */
export interface AuditQuery {
  actor?: string
  role?: Role
  action?: string
  outcome?: AuditOutcome
  target?: string
  /** Epoch ms, inclusive; `until` exclusive. */
  since?: number
  until?: number
  limit: number
  /** The `next` of the previous page. */
  cursor?: string
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[]
  /** Entries matching the filters, over all pages. */
  total: number
  /** Hand back as `cursor` for the next (older) page; null on the last one. */
  next: string | null
}
