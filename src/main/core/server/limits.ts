/**
 * Input limits: how much one message, one connection and one address may
 * send. Defaults follow SPEC "Protocol details"; `CoreOptions.limits`
 * overrides any of them; docs/security.md documents them.
 */

export interface Limits {
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
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  messageBytes: 64 * 1024,
  maxDepth: 32,
  socketPerSecond: 50,
  socketBurst: 100,
  socketAbuseMs: 10_000,
  httpPerMinute: 600,
})

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS, ...overrides }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`limits.${key} must be a positive number, got ${value}`)
  }
  return limits
}
