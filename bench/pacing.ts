/**
 * Calls a load's producers at set rates for a bounded time, from 5 ms ticks,
 * catching up at most 100 ms of lag, so a saturated process shows as a
 * lower achieved rate rather than as an ever-growing burst. Shared by the
 * core's injector and the bare Socket.IO baseline, so both get the same load.
 */
import type { LoadSpec } from './api'

const TICK_MS = 5
const MAX_CATCH_UP_S = 0.1

export interface Producers {
  /** The `n`-th log line (0-based). */
  log(n: number): void
  heartbeat(n: number): void
  task(n: number): void
}

export interface Paced {
  durationMs: number
  logs: number
  heartbeats: number
  tasks: number
  /** Longest a tick was late: the process's event loop was busy. */
  maxTickLateMs: number
}

export async function pace(spec: LoadSpec, producers: Producers): Promise<Paced> {
  const done = { logs: 0, heartbeats: 0, tasks: 0 }
  const skipped = { logs: 0, heartbeats: 0, tasks: 0 }
  const started = performance.now()
  let last = started
  let maxTickLateMs = 0
  const owed = (kind: keyof typeof done, perS: number, elapsedS: number) => {
    const due = Math.floor(perS * elapsedS) - done[kind] - skipped[kind]
    const cap = Math.ceil(perS * MAX_CATCH_UP_S)
    if (due > cap) skipped[kind] += due - cap
    return Math.min(due, cap)
  }
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now()
      maxTickLateMs = Math.max(maxTickLateMs, now - last - TICK_MS)
      last = now
      const elapsedS = Math.min(now - started, spec.durationMs) / 1000
      for (let n = owed('logs', spec.logsPerS, elapsedS); n > 0; n--) producers.log(done.logs++)
      for (let n = owed('heartbeats', spec.heartbeatsPerS, elapsedS); n > 0; n--) producers.heartbeat(done.heartbeats++)
      for (let n = owed('tasks', spec.tasksPerS, elapsedS); n > 0; n--) producers.task(done.tasks++)
      if (now - started >= spec.durationMs) {
        clearInterval(timer)
        resolve()
      }
    }, TICK_MS)
  })
  return { durationMs: performance.now() - started, ...done, maxTickLateMs: Math.round(maxTickLateMs) }
}

/** The text of the `n`-th log line of a load. */
export function logLine(spec: LoadSpec, n: number, agentId: string): string {
  const line = `bench step ${n}: processed a batch of records on ${agentId}`
  return spec.logBytes ? line.padEnd(spec.logBytes, '.') : line
}
