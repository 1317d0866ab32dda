/**
 * Throughput: the mixed load at rising rates into the pipeline, 100 clients.
 * After each step the load stops and every client must converge: its last
 * seq reaches the server's (`GET /api/snapshot`) and its state — agents and
 * tasks built from snapshot + events — equals the snapshot's.
 */
import { BENCH_TOKENS, type ConvergeReport, type LoadReport } from '../api'
import { sleep } from '../child'
import { NO_DEMO, withProcesses, type RunSettings } from '../harness'
import { cpuMeter, mixedLoad, type Scenario, type ScenarioOutcome } from '../scenario'
import { metric, scrapeMetrics } from '../scrape'
import { table } from '../table'

const CLIENTS = 100
const TARGET_EVENTS_PER_S = 20_000

export interface StepRow {
  targetPerS: number
  inPerS: number
  /** Events handed to one viewer's transport per second of load (server's count / clients). */
  deliveredPerClientPerS: number
  /** Events one client received per second of load, until it converged (snapshots not counted). */
  receivedPerClientPerS: number
  /** Clients converged on events alone, without a snapshot resync. */
  withoutResync: boolean
  resyncs: number
  disconnects: number
  outOfOrder: number
  convergeMs: number
  converged: boolean
  serverCpuPct: number
  clientsCpuPct: number
  load: LoadReport
  convergence: ConvergeReport
}

export async function measureThroughput(
  settings: RunSettings,
  steps: readonly number[],
  compression: boolean,
): Promise<{ rows: StepRow[]; deflate: boolean }> {
  const durationMs = settings.quick ? 3000 : 6000
  return withProcesses({ ...NO_DEMO, compression }, async (server, clients) => {
    const token = BENCH_TOKENS.viewer
    const connect = await clients.caller.call(
      'connect',
      { url: server.url, token, count: CLIENTS, wave: 100, timeoutMs: 20_000 },
      120_000,
    )
    if (connect.failed > 0) throw new Error(`${connect.failed} clients failed to connect`)
    await sleep(1000)
    const rows: StepRow[] = []
    for (const rate of steps) {
      await clients.caller.call('reset', null)
      const before = await scrapeMetrics(server.url, token)
      const cpu = await cpuMeter(server, clients)
      const load = await server.child.caller.call('runLoad', mixedLoad(rate, durationMs), durationMs + 60_000)
      const usage = await cpu()
      const after = await scrapeMetrics(server.url, token)
      const convergence = await clients.caller.call('converge', { url: server.url, token, timeoutMs: 20_000 }, 60_000)
      const stats = await clients.caller.call('stats', null)
      const seconds = load.durationMs / 1000
      const delta = (name: string) => metric(after, name) - metric(before, name)
      const converged =
        convergence.reachedSeq === CLIENTS &&
        convergence.stateEqual === CLIENTS &&
        stats.outOfOrder === 0 &&
        stats.disconnects === 0
      rows.push({
        targetPerS: rate,
        inPerS: Math.round(delta('swarm_events_total') / seconds),
        deliveredPerClientPerS: Math.round(delta('swarm_events_delivered_total') / seconds / CLIENTS),
        receivedPerClientPerS: Math.round(stats.events / seconds / CLIENTS),
        resyncs: delta('swarm_client_resyncs_total'),
        withoutResync: converged && delta('swarm_client_resyncs_total') === 0 && stats.resyncs === 0,
        disconnects: stats.disconnects,
        outOfOrder: stats.outOfOrder,
        convergeMs: convergence.waitedMs,
        converged,
        serverCpuPct: usage.serverPct,
        clientsCpuPct: usage.clientsPct,
        load,
        convergence,
      })
      // A rate that did not converge says enough; higher ones would only take longer to say it again.
      if (!converged) break
      await sleep(1000)
    }
    return { rows, deflate: connect.deflate }
  })
}

/** The row with the highest measured input rate (a saturated server may reach less at a higher step). */
export function fastest(rows: readonly StepRow[]): StepRow | undefined {
  return rows.reduce<StepRow | undefined>((best, row) => (best && best.inPerS >= row.inPerS ? best : row), undefined)
}

export function throughputTable(title: string, rows: StepRow[]): string {
  return table(
    title,
    [
      'target/s',
      'in/s',
      'out/s per client',
      'received/s per client',
      'server CPU %',
      'clients CPU %',
      'resyncs',
      'converge ms',
      'converged',
      'on events alone',
    ],
    rows.map((row) => [
      row.targetPerS,
      row.inPerS,
      row.deliveredPerClientPerS,
      row.receivedPerClientPerS,
      row.serverCpuPct,
      row.clientsCpuPct,
      row.resyncs,
      row.convergeMs,
      row.converged,
      row.withoutResync,
    ]),
  )
}

export const throughput: Scenario = {
  name: 'throughput',
  summary: 'highest event rate into the pipeline at which 100 clients converge',
  async run(settings): Promise<ScenarioOutcome> {
    const steps = settings.quick ? [5000, 20_000] : [5000, 10_000, 20_000, 40_000]
    const { rows } = await measureThroughput(settings, steps, false)
    const best = fastest(rows.filter((row) => row.converged))
    const bestWithoutResync = fastest(rows.filter((row) => row.withoutResync))
    return {
      result: { clients: CLIENTS, mix: mixedLoad(1, 0), steps, rows },
      report: throughputTable(`Throughput: mixed load, ${CLIENTS} clients, convergence after each step`, rows),
      verdicts: [
        {
          target: `≥ ${TARGET_EVENTS_PER_S.toLocaleString('en-US')} events/s in with ${CLIENTS} clients converging`,
          measured: best
            ? `${best.inPerS.toLocaleString('en-US')} events/s in, all converged (step ${best.targetPerS.toLocaleString('en-US')}, ${best.resyncs} snapshot resyncs)`
            : 'no step converged',
          met: best ? best.inPerS >= TARGET_EVENTS_PER_S * 0.97 : false,
        },
        {
          target: '… of which every client kept up on events alone (no snapshot resync)',
          measured: bestWithoutResync
            ? `up to ${bestWithoutResync.inPerS.toLocaleString('en-US')} events/s in`
            : 'no step without a resync',
          met: null,
        },
      ],
    }
  },
}
