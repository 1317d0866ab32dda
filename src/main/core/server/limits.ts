/**
 * Input limits: how much one message, one connection and one address may
 * send. Defaults follow SPEC "Protocol details"; `CoreOptions.limits`
 * overrides any of them; docs/security.md documents them.
 */
import type { FanoutLimits } from '../pipeline/viewers'

/** Besides these, the viewer backlog bounds and the resync ration (`FanoutLimits`, pipeline/viewers.ts). */
export interface Limits extends FanoutLimits {
  /** Largest HTTP body and Socket.IO message, bytes. Over it: 413, or the socket is closed. */
  messageBytes: number
  /** Deepest nesting of arrays and objects accepted in a message or body. */
  maxDepth: number
  /** Socket.IO messages per second one connection may keep sending (the bucket's refill rate). */
  socketPerSecond: number
  /** Messages a connection may send at once before the rate applies (the bucket's size). */
  socketBurst: number
  /** A connection refused for flooding without a pause of a second for this long is disconnected. */
  socketAbuseMs: number
  /** HTTP requests per client address per minute; `/healthz` and the dashboard's files are exempt. */
  httpPerMinute: number
  /** Largest replay of missed events (`sync`, resume on connect), bytes; beyond it a snapshot is sent instead. */
  replayBytes: number
  /** A request's headers must have arrived this long after it began (Node's `headersTimeout`). Over it: `408`. */
  headersTimeoutMs: number
  /** A whole request, headers and body, must have arrived this long after it began (`requestTimeout`). Over it: `408`. */
  requestTimeoutMs: number
  /** How long a keep-alive connection may wait idle between requests (`keepAliveTimeout`). Then it is closed. */
  keepAliveMs: number
  /**
   * How long an HTTP connection may see no traffic at all while a request is under way (a client that
   * stops reading its answer). Longer than Engine.IO's ping interval, which bounds a held long-poll.
   */
  idleSocketMs: number
  /** An Engine.IO session that has joined no namespace this long after it opened is closed (Socket.IO's `connectTimeout`). */
  namespaceJoinMs: number
  /** Engine.IO sessions that have not joined a namespace yet, in all; a handshake over it is refused (`403`). */
  sessionsWithoutNamespace: number
  /** The same, per client address (this machine's own clients are exempt, as from the HTTP rate limit). */
  sessionsWithoutNamespacePerAddress: number
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  messageBytes: 64 * 1024,
  maxDepth: 32,
  socketPerSecond: 50,
  socketBurst: 100,
  socketAbuseMs: 10_000,
  httpPerMinute: 600,
  viewerQueueBytes: 2 * 1024 * 1024,
  viewersQueueBytes: 256 * 1024 * 1024,
  viewerStallMs: 10_000,
  viewerHoldMs: 60_000,
  replayBytes: 1024 * 1024,
  resyncBurst: 5,
  resyncEveryMs: 2000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveMs: 5_000,
  idleSocketMs: 60_000,
  namespaceJoinMs: 10_000,
  sessionsWithoutNamespace: 1_000,
  sessionsWithoutNamespacePerAddress: 100,
})

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS, ...overrides }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`limits.${key} must be a positive number, got ${value}`)
  }
  // Node refuses a headers timeout longer than the request timeout; say it in our words.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(
      `limits.headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed limits.requestTimeoutMs (${limits.requestTimeoutMs})`,
    )
  }
  return limits
}
