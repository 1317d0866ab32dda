/**
 * Per-kind limits (the queue of one task kind): paused, at most `maxRunning`
 * of its tasks on agents across the swarm, at most `maxPerMinute` of them
 * dispatched in any 60 s (a sliding window). Without zod, so the renderer's
 * inputs take their bounds from here too; the request schema is `commands.ts`
 * `KindUpdateSchema`.
 */

export const KIND_LIMITS = {
  /** The highest `maxRunning`: more than any swarm runs at once. */
  maxRunning: 10_000,
  /** The highest `maxPerMinute`. */
  maxPerMinute: 10_000,
  /** Kinds with limits set, the most a server keeps (a kind back at its defaults does not count). */
  configured: 1_000,
  /** The window `maxPerMinute` counts dispatches over. */
  windowMs: 60_000,
} as const

export interface KindLimits {
  paused: boolean
  /** Tasks of the kind assigned or running at once; null: no limit. */
  maxRunning: number | null
  /** Tasks of the kind dispatched in any 60 s; null: no limit. */
  maxPerMinute: number | null
}

export const NO_KIND_LIMITS: KindLimits = { paused: false, maxRunning: null, maxPerMinute: null }

/** What holds a kind's queued tasks now; null: nothing does. */
export type KindHold =
  | { limit: 'paused' }
  | { limit: 'maxRunning'; maxRunning: number }
  | { limit: 'maxPerMinute'; maxPerMinute: number; untilMs: number }

/** A kind as `GET /api/kinds` lists it. */
export interface KindInfo extends KindLimits {
  kind: string
  /** Queued tasks of the kind, those waiting for a dependency included. */
  queued: number
  /** Tasks of the kind assigned to or running on an agent. */
  running: number
  /** Dispatched in the last 60 s (counted only while `maxPerMinute` is set). */
  dispatchedLastMinute: number
  held: KindHold | null
}

/** How a hold reads in the task drawer and the Queues panel: "kind build is paused". */
export function describeHold(kind: string, hold: KindHold): string {
  switch (hold.limit) {
    case 'paused':
      return `kind ${kind} is paused`
    case 'maxRunning':
      return `kind ${kind} is at its limit of ${hold.maxRunning} running`
    case 'maxPerMinute':
      return `kind ${kind} is at its rate of ${hold.maxPerMinute} a minute`
  }
}

/**
 * A kind's limits as viewers hold them (the `kind:limits` event, `Snapshot.kinds`): the limits, and until when
 * the rate holds it. The counts are not pushed (they change with every dispatch): a viewer counts them from the
 * tasks it holds, all active ones, and says what holds the kind with `holdOf`.
 */
export interface KindState extends KindLimits {
  kind: string
  /** Epoch ms until which `maxPerMinute` holds the kind (its window is full); null: the rate does not hold it. */
  rateHeldUntil: number | null
}

/** What holds a kind, from its state, the tasks of it on agents and the time: the server's rule, on a viewer. */
export function holdOf(state: KindState | undefined, running: number, now: number): KindHold | null {
  if (!state) return null
  if (state.paused) return { limit: 'paused' }
  if (state.maxRunning !== null && running >= state.maxRunning)
    return { limit: 'maxRunning', maxRunning: state.maxRunning }
  if (state.maxPerMinute !== null && state.rateHeldUntil !== null && state.rateHeldUntil > now) {
    return { limit: 'maxPerMinute', maxPerMinute: state.maxPerMinute, untilMs: state.rateHeldUntil }
  }
  return null
}

export function isDefaultLimits(limits: KindLimits): boolean {
  return !limits.paused && limits.maxRunning === null && limits.maxPerMinute === null
}
