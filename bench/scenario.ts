/** The shape every scenario has, and the loads they share. */
import type { ClientsApi, LoadSpec, ProcessSample } from './api'
import type { Child } from './child'
import type { RunSettings, ServerHandle } from './harness'

export interface Verdict {
  target: string
  measured: string
  met: boolean | null
}

export interface ScenarioOutcome {
  /** Everything measured, for bench/results/<date>.json. */
  result: unknown
  /** The console tables. */
  report: string
  verdicts: Verdict[]
}

export interface Scenario {
  name: string
  summary: string
  /** Runs only when named in `--only` (a long one that a full run leaves out). */
  optIn?: boolean
  run(settings: RunSettings): Promise<ScenarioOutcome>
}

/** Events per task the injector's tasks produce: queued, assigned, running, agent freed, succeeded (+ agent busy). */
const EVENTS_PER_TASK = 5.5

/** The mixed load of the throughput and soak scenarios: 70 % log lines, 25 % heartbeats, 5 % task lifecycle. */
export function mixedLoad(eventsPerS: number, durationMs: number): LoadSpec {
  return {
    logsPerS: eventsPerS * 0.7,
    heartbeatsPerS: eventsPerS * 0.25,
    tasksPerS: (eventsPerS * 0.05) / EVENTS_PER_TASK,
    taskMs: 0,
    durationMs,
  }
}

/** CPU use of both processes over a stretch of time, in % of one core. */
export async function cpuMeter(
  server: ServerHandle,
  clients: Child<ClientsApi>,
): Promise<() => Promise<{ serverPct: number; clientsPct: number }>> {
  const take = () =>
    Promise.all([server.child.caller.call('sample', { gc: false }), clients.caller.call('sample', null)])
  const before = await take()
  return async () => {
    const after = await take()
    const pct = (a: ProcessSample, b: ProcessSample) => Math.round(((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 100)
    return { serverPct: pct(before[0], after[0]), clientsPct: pct(before[1], after[1]) }
  }
}
