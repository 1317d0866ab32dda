/**
 * Immediate events: a steady stream of short tasks; every terminal task
 * event is flushed at once, and each client records arrival − `at` (the
 * coordinator's clock, same machine). At 10, 100 and 1,000 connected clients.
 */
import { BENCH_TOKENS, type BenchEncoding, type Distribution, type LoadSpec, type ServerSetup } from '../api'
import { sleep } from '../child'
import { ClientPool } from '../client-pool'
import { NO_DEMO, startServer, type RunSettings } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { median, table } from '../table'

const COUNTS = [10, 100, 1000]

/** Tasks only, so that the bare Socket.IO baseline can send the same messages: ~20 per second, ~6 events each. */
export function latencyLoad(durationMs: number): LoadSpec {
  return { tasksPerS: 20, taskMs: 50, heartbeatsPerS: 0, logsPerS: 0, durationMs }
}

export interface LatencyRow {
  clients: number
  runs: (Distribution & { serverCpuPct: number; clientsCpuPct: number })[]
  median: { p50: number; p95: number; p99: number; max: number }
  /** Median over runs of the p50 / p99 at the first client each event reached. */
  first: { p50: number; p99: number }
  disconnects: number
}

/**
 * Client processes for the latency runs. One process handles its viewers' messages one after another (~40 µs
 * each), so with 100 viewers in one process the 50th waited ~2 ms for the others' — the client rig's delay, not
 * the server's. Four processes share the two cores with the server; runs before 2026-12-02 had one.
 */
export const LATENCY_PROCESSES = 4

export async function measureLatency(
  settings: RunSettings,
  counts: readonly number[],
  setup: ServerSetup,
  repeats = settings.quick ? 1 : 3,
  encoding: BenchEncoding = 'json',
  processes = LATENCY_PROCESSES,
): Promise<{ rows: LatencyRow[]; deflate: boolean }> {
  const durationMs = settings.quick ? 3000 : 6000
  const server = await startServer(setup)
  const pool = new ClientPool(processes)
  try {
    const rows: LatencyRow[] = []
    let connected = 0
    let deflate = false
    for (const count of counts) {
      const connect = await pool.connect({
        url: server.url,
        token: BENCH_TOKENS.viewer,
        count: count - connected,
        wave: Math.max(1, Math.floor(100 / processes)),
        timeoutMs: 20_000,
        encoding,
      })
      if (encoding === 'deflate-raw' && !connect.deflateRaw) throw new Error('the server did not agree to deflate-raw')
      if (connect.failed > 0)
        throw new Error(`${connect.failed} clients failed to connect: ${connect.errors.join('; ')}`)
      connected += connect.connected
      deflate = connect.deflate
      // Settle, then a short discarded run: connection set-up, JIT and first GCs stay out of the figures.
      await sleep(settings.quick ? 1000 : 2000)
      await server.child.caller.call('runLoad', latencyLoad(settings.quick ? 1000 : 2000), 40_000)
      await sleep(500)
      const runs: LatencyRow['runs'] = []
      const firsts: { p50: number; p99: number }[] = []
      let disconnects = 0
      for (let run = 0; run < repeats; run++) {
        await pool.reset()
        const serverBefore = await server.child.caller.call('sample', { gc: false })
        const clientsMeter = await pool.meter()
        await server.child.caller.call('runLoad', latencyLoad(durationMs), durationMs + 30_000)
        await sleep(1000)
        const serverAfter = await server.child.caller.call('sample', { gc: false })
        const clientLoad = await clientsMeter()
        const stats = await pool.immediate()
        disconnects += stats.disconnects
        firsts.push(stats.first)
        runs.push({
          ...stats.all,
          serverCpuPct: Math.round(
            ((serverAfter.cpuMs - serverBefore.cpuMs) / (serverAfter.at - serverBefore.at)) * 100,
          ),
          clientsCpuPct: clientLoad.cpuPct.reduce((sum, pct) => sum + pct, 0),
        })
      }
      const pick = (key: 'p50' | 'p95' | 'p99' | 'max') => median(runs.map((run) => run[key]))
      rows.push({
        clients: connected,
        runs,
        median: { p50: pick('p50'), p95: pick('p95'), p99: pick('p99'), max: pick('max') },
        first: { p50: median(firsts.map((f) => f.p50)), p99: median(firsts.map((f) => f.p99)) },
        disconnects,
      })
    }
    return { rows, deflate }
  } finally {
    await pool.stop()
    await server.child.stop('stop')
  }
}

export function latencyTable(title: string, rows: LatencyRow[], baseline: LatencyRow[] = []): string {
  const floor = (clients: number) => baseline.find((row) => row.clients === clients)?.median ?? null
  return table(
    title,
    [
      'clients',
      'samples',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'server CPU %',
      'clients CPU %',
      'runs',
      'first client p50',
      'p99',
      ...(baseline.length ? ['bare Socket.IO p50', 'p99'] : []),
    ],
    rows.map((row) => [
      row.clients,
      row.runs.reduce((sum, run) => sum + run.count, 0),
      row.median.p50,
      row.median.p95,
      row.median.p99,
      row.median.max,
      median(row.runs.map((run) => run.serverCpuPct)),
      median(row.runs.map((run) => run.clientsCpuPct)),
      row.runs.length,
      row.first.p50,
      row.first.p99,
      ...(baseline.length ? [floor(row.clients)?.p50 ?? null, floor(row.clients)?.p99 ?? null] : []),
    ]),
  )
}

export const latency: Scenario = {
  name: 'latency',
  summary: 'immediate-event latency p50/p95/p99 at 10/100/1,000 clients',
  async run(settings): Promise<ScenarioOutcome> {
    // A quick run measures at 100 only (the SPEC's figure): it checks that the scenario works.
    const counts = settings.quick ? [100] : COUNTS
    const { rows } = await measureLatency(settings, counts, NO_DEMO)
    // The same clients against a bare Socket.IO server: what the machine and Socket.IO cost by themselves.
    // (Skipped in a quick run.)
    const baseline = settings.quick
      ? []
      : (await measureLatency(settings, counts, { ...NO_DEMO, baseline: true }, 1)).rows
    // Compression negotiated (deflate-raw, as the renderer does), 100 clients, beside the bare server doing the same.
    const compressed = (await measureLatency(settings, [100], NO_DEMO, undefined, 'deflate-raw')).rows
    const compressedBaseline = settings.quick
      ? []
      : (await measureLatency(settings, [100], { ...NO_DEMO, baseline: true }, 1, 'deflate-raw')).rows
    const at100 = rows.find((row) => row.clients === 100)
    const on100 = compressed[0]
    const verdicts = (label: string, row: LatencyRow | undefined) =>
      row
        ? [
            {
              target: `immediate event → 100 clients${label}: p50 ≤ 2 ms`,
              measured: `p50 ${row.median.p50} ms`,
              met: row.median.p50 <= 2,
            },
            {
              target: `immediate event → 100 clients${label}: p99 ≤ 20 ms`,
              measured: `p99 ${row.median.p99} ms`,
              met: row.median.p99 <= 20,
            },
          ]
        : []
    return {
      result: { load: latencyLoad(0), rows, baseline, compressed, compressedBaseline },
      report:
        latencyTable(
          'Immediate events: arrival − at (terminal task events, medians of runs), core vs bare Socket.IO',
          rows,
          baseline,
        ) +
        latencyTable(
          'The same with deflate-raw negotiated by every client (core vs bare Socket.IO, both compressing once)',
          compressed,
          compressedBaseline,
        ),
      verdicts: [...verdicts('', at100), ...verdicts(', deflate-raw', on100)],
    }
  },
}
