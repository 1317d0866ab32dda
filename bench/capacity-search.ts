/**
 * Capacity: the highest rate of log lines into a server at which ≥ 99.9 %
 * of the events reach the viewers as events — not skipped by a snapshot
 * resync — and within 1 s of being emitted (2 s for the 1 s logs window):
 * a viewer that gets everything seconds late is not keeping up. One step:
 * reset the clients, note the server's seq, run the load, note the seq
 * again, and count per viewer the events of that range it received as
 * events (bench/viewer.ts `deliveredIn`) and how many of all it received
 * arrived within the bound (arrival − `at`, on the client's clock after it
 * processed them: a client process that falls behind counts against the
 * step, and the step says so). The search doubles
 * the rate until a step fails, then bisects three times between the last
 * pass and the first failure (a resolution of ~9 %).
 *
 * The machine is shared: each step records the CPU other programs took, and
 * a step that fails while they took ≥ 30 % of a core is run once more after
 * waiting up to 30 s for quiet; both runs are kept.
 */
import type { LoadSpec } from './api'
import { sleep } from './child'
import type { ClientPool } from './client-pool'
import { CpuWatch, descendantPids, waitQuiet } from './cpu-watch'
import type { ServerHandle } from './harness'

export type CapacityKind = 'immediate' | 'batched'

const DELIVERED = 0.999
const NOISY_PCT = 30

export interface CapacityStep {
  targetPerS: number
  inPerS: number
  /** Share of the window's events that reached the viewers as events within the bound. */
  delivered: number
  /** … as events, however late. */
  asEvents: number
  resyncs: number
  disconnects: number
  outOfOrder: number
  /** Viewers at the last seq within the wait. */
  reached: number
  p50: number
  p99: number
  serverCpuPct: number
  clientsCpuPct: number[]
  clientLimit: string | null
  otherPct: number | null
  /** A re-run of a noisy failed step. */
  rerun: boolean
  pass: boolean
  why: string
}

export interface CapacityResult {
  kind: CapacityKind
  /** The highest passing rate (0: not even the first step passed). */
  capacity: number
  steps: CapacityStep[]
}

export function capacityLoad(kind: CapacityKind, rate: number, durationMs: number): LoadSpec {
  return {
    logsPerS: rate,
    logLevel: kind === 'immediate' ? 'error' : 'info',
    heartbeatsPerS: 0,
    tasksPerS: 0,
    taskMs: 0,
    durationMs,
  }
}

async function step(
  server: ServerHandle,
  pool: ClientPool,
  kind: CapacityKind,
  rate: number,
  durationMs: number,
  clients: number,
): Promise<CapacityStep> {
  const watch = new CpuWatch(() => descendantPids())
  watch.start()
  watch.lap()
  await pool.reset()
  const from = await server.child.caller.call('seq', null)
  const serverBefore = await server.child.caller.call('sample', { gc: false })
  const clientsMeter = await pool.meter()
  const load = await server.child.caller.call('runLoad', capacityLoad(kind, rate, durationMs), durationMs + 60_000)
  const to = await server.child.caller.call('seq', null)
  const serverAfter = await server.child.caller.call('sample', { gc: false })
  const clientLoad = await clientsMeter()
  const boundMs = kind === 'batched' ? 2000 : 1000
  const window = await pool.window({ from, to, timeoutMs: boundMs + 5000 })
  const noise = watch.lap()
  watch.stop()
  const expected = clients * (to - from)
  const asEvents = expected > 0 ? window.delivered / expected : 0
  const received = window.delayHistogram.summary().count
  const late = received - window.delayHistogram.countUpTo(boundMs)
  const delivered = expected > 0 ? Math.max(0, window.delivered - late) / expected : 0
  const inPerS = Math.round((to - from) / (load.durationMs / 1000))
  const why =
    window.disconnects > 0
      ? `${window.disconnects} viewers disconnected`
      : window.outOfOrder > 0
        ? `${window.outOfOrder} events out of order`
        : inPerS < rate * 0.95
          ? `the server took ${inPerS} events/s of ${rate}`
          : delivered < DELIVERED
            ? `${(delivered * 100).toFixed(2)} % as events within ${boundMs / 1000} s (${(asEvents * 100).toFixed(2)} % as events; ${window.resyncs} resyncs)`
            : ''
  return {
    targetPerS: rate,
    inPerS,
    delivered: Math.round(delivered * 100_000) / 100_000,
    asEvents: Math.round(asEvents * 100_000) / 100_000,
    resyncs: window.resyncs,
    disconnects: window.disconnects,
    outOfOrder: window.outOfOrder,
    reached: window.reached,
    p50: round(window.delayHistogram.quantile(0.5)),
    p99: round(window.delayHistogram.quantile(0.99)),
    serverCpuPct: Math.round(((serverAfter.cpuMs - serverBefore.cpuMs) / (serverAfter.at - serverBefore.at)) * 100),
    clientsCpuPct: clientLoad.cpuPct,
    clientLimit: clientLoad.limit,
    otherPct: noise?.otherPct ?? null,
    rerun: false,
    pass: why === '',
    why,
  }
}

/** After a failed step: every viewer back at the server's seq (resynced if need be), then a breath. */
async function settle(server: ServerHandle, pool: ClientPool): Promise<void> {
  const seq = await server.child.caller.call('seq', null)
  await pool.window({ from: seq, to: seq, timeoutMs: 20_000 })
  await sleep(1000)
}

/** One server and its viewers, searched beside others (`searchTogether`). */
export interface CapacitySubject {
  label: string
  server: ServerHandle
  pool: ClientPool
}

export interface SearchOptions {
  start: number
  max: number
  durationMs: number
  bisections: number
  clients: number
}

/**
 * Searches the capacity of several subjects at once, cell by cell: at each
 * rate every subject still searching runs its step, one after the other, so
 * that what the rest of the machine does weighs on all of them alike (the
 * others stay connected and idle meanwhile). Doubling first, then bisection
 * rounds, each subject on its own interval.
 */
export async function searchTogether(
  subjects: readonly CapacitySubject[],
  kind: CapacityKind,
  options: SearchOptions,
  log: (line: string) => void = () => {},
): Promise<CapacityResult[]> {
  const state = subjects.map(() => ({ pass: 0, fail: 0, steps: [] as CapacityStep[] }))
  const run = async (i: number, rate: number): Promise<boolean> => {
    const { server, pool, label } = subjects[i]!
    let result = await step(server, pool, kind, rate, options.durationMs, options.clients)
    state[i]!.steps.push(result)
    log(describe(label, kind, result))
    if (!result.pass && (result.otherPct ?? 0) >= NOISY_PCT) {
      await settle(server, pool)
      await waitQuiet(30)
      result = { ...(await step(server, pool, kind, rate, options.durationMs, options.clients)), rerun: true }
      state[i]!.steps.push(result)
      log(describe(label, kind, result))
    }
    if (!result.pass) await settle(server, pool)
    if (result.pass) state[i]!.pass = Math.max(state[i]!.pass, rate)
    else state[i]!.fail = state[i]!.fail === 0 ? rate : Math.min(state[i]!.fail, rate)
    return result.pass
  }
  for (let rate = options.start; rate <= options.max; rate *= 2) {
    const searching = state.flatMap((entry, i) => (entry.fail === 0 ? [i] : []))
    if (searching.length === 0) break
    for (const i of searching) await run(i, rate)
  }
  for (let round = 0; round < options.bisections; round++) {
    for (const [i, entry] of state.entries()) {
      if (entry.pass === 0 || entry.fail === 0) continue
      const middle = Math.round(Math.sqrt(entry.pass * entry.fail) / 10) * 10
      if (middle > entry.pass && middle < entry.fail) await run(i, middle)
    }
  }
  return state.map((entry) => ({ kind, capacity: entry.pass, steps: entry.steps }))
}

function describe(label: string, kind: CapacityKind, step: CapacityStep): string {
  return (
    `    ${label}, ${kind} ${step.targetPerS}/s${step.rerun ? ' (re-run)' : ''}: ${step.pass ? 'pass' : `fail — ${step.why}`}; ` +
    `in ${step.inPerS}/s, delivered ${(step.delivered * 100).toFixed(2)} %, p50/p99 ${step.p50}/${step.p99} ms, ` +
    `server ${step.serverCpuPct} %, clients ${step.clientsCpuPct.join('+')} %, others ${step.otherPct ?? '?'} %` +
    (step.clientLimit ? ` — client-limited: ${step.clientLimit}` : '')
  )
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
