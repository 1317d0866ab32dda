/**
 * Hostile: sustained abuse, two minutes per case (20 s with --quick), the
 * server's resident memory and event-loop delay sampled every 2 s, and
 * `/healthz` probed every 100 ms from outside. The cases are defined in
 * bench/hostile-cases.ts:
 *
 * - stalled viewers: 500 viewers that join with a valid token and stop
 *   reading, kept at 500 (each one the server drops is replaced), beside 10
 *   healthy viewers, under the mixed load at 1,000 events/s with 2 KB log
 *   lines; then all 500 leave at once.
 * - expensive asks: the replay buffer full of 16 KiB log lines; 10 viewers
 *   send `sync { sinceSeq: 1 }` and 10 others widen and narrow their
 *   subscription, each at 45 a second (just under the message limit),
 *   reconnecting whenever they are cut off.
 * - connection abuse: 300 slow request bodies (a byte a second, replaced when
 *   closed) and 100 Engine.IO sessions a second that join no namespace or
 *   the default one, beside 10 healthy viewers and 500 events/s.
 * - agents under load: 10 SDK agents running 100 tasks a second (a progress
 *   report and a log line each) while 1,800 error lines a second go out to
 *   100 viewers; an eleventh connection tries to take a live agent's id five
 *   times a second.
 *
 * Verdict per case: memory bounded (the second half's peak RSS at most 15 %
 * over the first half's), `/healthz` never left unanswered 5 s, and the
 * healthy viewers converge; for the agents, no message refused, no
 * reconnect, no task run twice, the thief never registered.
 */
import { BENCH_TOKENS, type ProcessSample } from '../api'
import { sleep } from '../child'
import { NO_DEMO, withProcesses, type ServerHandle } from '../harness'
import { Prober, type ProbeReport } from '../hostile'
import {
  agentsUnderLoad,
  connectionAbuse,
  expensiveAsks,
  stalledViewers,
  summary,
  type AbuseCase,
} from '../hostile-cases'
import type { Scenario, ScenarioOutcome, Verdict } from '../scenario'
import { metric, scrapeMetrics } from '../scrape'
import { table } from '../table'

const SAMPLE_EVERY_MS = 2000

interface Timeline {
  at: number
  /** Viewers connected, held back, and disconnected for their backlog so far (the server's /metrics). */
  connected: number
  held: number
  dropped: number
  rssMb: number
  heapUsedMb: number
  loopDelayMaxMs: number
  healthzMaxMs: number
  healthzTimeouts: number
  note: string
}

interface CaseResult {
  name: string
  baselineRssMb: number
  timeline: Timeline[]
  afterMb: number
  leaving: ProbeReport | null
  counters: Record<string, number>
  converged: string
}

/** Samples the server and the prober every 2 s while `running()` holds. */
async function watch(server: ServerHandle, prober: Prober, running: () => boolean, note: () => string) {
  const timeline: Timeline[] = []
  while (running()) {
    await sleep(SAMPLE_EVERY_MS)
    const sample: ProcessSample = await server.child.caller.call('sample', { gc: false })
    const probe = await prober.report()
    const values = await scrapeMetrics(server.url, BENCH_TOKENS.viewer)
    const dropped = ['stalled', 'overdue', 'memory']
      .map((reason) => metric(values, `swarm_viewers_dropped_total{reason="${reason}"}`))
      .reduce((a, b) => a + b, 0)
    timeline.push({
      connected: metric(values, 'swarm_clients_connected'),
      held: metric(values, 'swarm_clients_lagging'),
      dropped,
      at: sample.at,
      rssMb: Math.round(sample.rssMb),
      heapUsedMb: Math.round(sample.heapUsedMb),
      loopDelayMaxMs: Math.round(sample.loopDelayMaxMs),
      healthzMaxMs: probe.maxMs,
      healthzTimeouts: probe.timeouts,
      note: note(),
    })
  }
  return timeline
}

async function viewerCounters(server: ServerHandle): Promise<Record<string, number>> {
  const values = await scrapeMetrics(server.url, BENCH_TOKENS.viewer)
  const names = [
    'swarm_viewers_dropped_total{reason="stalled"}',
    'swarm_viewers_dropped_total{reason="overdue"}',
    'swarm_viewers_dropped_total{reason="memory"}',
    'swarm_client_resyncs_total',
    'swarm_viewers_refused_total{cap="total"}',
    'swarm_viewers_refused_total{cap="perToken"}',
  ]
  return Object.fromEntries(names.map((name) => [name, metric(values, name)]))
}

/** One case on a fresh server: healthy viewers, a baseline, the abuse under load while watched, convergence. */
async function runCase(abuse: AbuseCase, durationMs: number, quick: boolean): Promise<CaseResult> {
  return withProcesses(NO_DEMO, async (server, clients) => {
    const connect = await clients.caller.call(
      'connect',
      { url: server.url, token: BENCH_TOKENS.viewer, count: abuse.viewers, wave: 100, timeoutMs: 20_000 },
      60_000,
    )
    if (connect.failed > 0) throw new Error(`${connect.failed} healthy viewers failed to connect`)
    await abuse.prepare?.(server, quick)
    await sleep(2000)
    const baseline = await server.child.caller.call('sample', { gc: true })
    const prober = new Prober(server.url)
    prober.start()
    try {
      const running = await abuse.start(server)
      const load = server.child.caller.call('runLoad', abuse.load(durationMs), durationMs + 60_000)
      let loading = true
      void load.finally(() => (loading = false)).catch(() => {})
      const timeline = await watch(server, prober, () => loading, running.note)
      await load
      const { counters, leaving } = await running.end(prober)
      const converge = await clients.caller.call(
        'converge',
        { url: server.url, token: BENCH_TOKENS.viewer, timeoutMs: 20_000 },
        60_000,
      )
      await running.cleanup?.()
      const after = await server.child.caller.call('sample', { gc: true })
      return {
        name: abuse.name,
        baselineRssMb: Math.round(baseline.rssMb),
        timeline,
        afterMb: Math.round(after.rssMb),
        leaving: leaving ?? null,
        counters: { ...(await viewerCounters(server)), ...counters },
        converged: `${converge.reachedSeq}/${converge.clients} viewers reached seq ${converge.seq}, ${converge.stateEqual} equal`,
      }
    } finally {
      await prober.stop()
    }
  })
}

const prefixedOnly = (values: Record<string, number>, prefix: string) =>
  Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith(prefix)))

function judge(result: CaseResult, full: boolean): Verdict[] {
  const half = Math.floor(result.timeline.length / 2)
  const peak = (rows: Timeline[]) => Math.max(0, ...rows.map((row) => row.rssMb))
  const first = peak(result.timeline.slice(0, half))
  const second = peak(result.timeline.slice(half))
  const timeouts = result.timeline.reduce((sum, row) => sum + row.healthzTimeouts, 0)
  const worst = Math.max(0, ...result.timeline.map((row) => row.healthzMaxMs))
  const [reached, clients] = result.converged.split(' ')[0]!.split('/').map(Number)
  const agents: Verdict[] =
    result.counters.tasksRun === undefined
      ? []
      : [
          {
            target: `hostile, ${result.name}: well-behaved agents never refused or cut off, no task run twice`,
            measured: `${result.counters.agentMessagesRefused} messages refused, ${result.counters.agentReconnects} reconnects, ${result.counters.tasksRunTwice} of ${result.counters.tasksRun} tasks run twice; the id thief: ${summary(prefixedOnly(result.counters, 'thief '))}`,
            met: full
              ? result.counters.agentMessagesRefused === 0 &&
                result.counters.agentReconnects === 0 &&
                result.counters.tasksRunTwice === 0 &&
                result.counters['thief ok'] === undefined
              : null,
          },
        ]
  return [
    ...agents,
    {
      target: `hostile, ${result.name}: RSS bounded over 2 min of abuse`,
      measured: `baseline ${result.baselineRssMb} MB, peak ${first} MB (first half) / ${second} MB (second half), ${result.afterMb} MB after`,
      met: full ? second <= first * 1.15 : null,
    },
    {
      target: `hostile, ${result.name}: /healthz answered throughout, the healthy viewers converge`,
      measured: `${timeouts} probes unanswered in 5 s, slowest ${worst} ms; ${result.converged}`,
      met: full ? timeouts === 0 && reached === clients : null,
    },
  ]
}

function render(result: CaseResult): string {
  const start = result.timeline[0]?.at ?? 0
  return (
    table(
      `Hostile: ${result.name} (server RSS ${result.baselineRssMb} MB before)`,
      [
        't s',
        'viewers',
        'held back',
        'dropped',
        'RSS MB',
        'heap MB',
        'loop delay max ms',
        '/healthz max ms',
        'unanswered',
        'clients',
      ],
      result.timeline.map((row) => [
        Math.round((row.at - start) / 1000) + 2,
        row.connected,
        row.held,
        row.dropped,
        row.rssMb,
        row.heapUsedMb,
        row.loopDelayMaxMs,
        row.healthzMaxMs,
        row.healthzTimeouts,
        row.note,
      ]),
    ) +
    (result.leaving
      ? `\nall left at once: /healthz over the next 10 s p50 ${result.leaving.p50Ms} ms, max ${result.leaving.maxMs} ms, ${result.leaving.timeouts} unanswered`
      : '') +
    `\nafter (GC): ${result.afterMb} MB; ${result.converged}\n` +
    Object.entries(result.counters)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ')
  )
}

export const hostile: Scenario = {
  name: 'hostile',
  summary:
    '2 min each: 500 viewers that stop reading; 20 asking for replays and snapshots nonstop; slow bodies and raw sessions; agents under a saturated server',
  async run(settings): Promise<ScenarioOutcome> {
    const durationMs = settings.quick ? 20_000 : 120_000
    const cases: CaseResult[] = []
    for (const abuse of [stalledViewers, expensiveAsks, connectionAbuse, agentsUnderLoad]) {
      cases.push(await runCase(abuse, durationMs, settings.quick))
    }
    return {
      result: cases,
      report: cases.map(render).join('\n\n'),
      verdicts: cases.flatMap((result) => judge(result, !settings.quick)),
    }
  },
}
