/**
 * Bytes per client-minute with the 50-agent demo swarm: one push viewer and
 * one client polling `GET /api/snapshot` every second, side by side in the
 * same run, each through its own byte-counting TCP proxy. Measured twice on
 * one server: fresh (its task history nearly empty, so the snapshot is
 * small) and with the finished-task history at its bound (500 tasks), as on
 * any server that has run the demo for a few minutes.
 */
import { BENCH_TOKENS, type BenchEncoding, type BytesReport } from '../api'
import { sleep } from '../child'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { table, type Cell } from '../table'

const AGENTS = 50
const DEMO_RATE = 2
/** The finished tasks `GET /api/snapshot` includes at most. */
const HISTORY = 500
const TARGET_REDUCTION = 0.95

export interface BytesPhase {
  report: BytesReport
  perMinute: { push: number; pushDeflate: number; poll: number; pollGzip: number }
  reduction: number
}

function summarize(report: BytesReport): BytesPhase {
  const scale = 60_000 / report.durationMs
  const perMinute = {
    push: Math.round((report.push.down + report.push.up) * scale),
    pushDeflate: Math.round((report.push.deflateEstimate + report.push.up) * scale),
    poll: Math.round((report.poll.down + report.poll.up) * scale),
    pollGzip: Math.round((report.poll.gzipEstimate + report.poll.up) * scale),
  }
  return { report, perMinute, reduction: 1 - perMinute.push / perMinute.poll }
}

export async function measureBytes(
  freshMs: number,
  fullMs: number,
  compression: boolean,
  encoding: BenchEncoding = 'json',
): Promise<{ fresh: BytesPhase | null; full: BytesPhase }> {
  return withProcesses(
    { ...NO_DEMO, demo: true, demoAgents: AGENTS, demoRate: DEMO_RATE, injectorAgents: 20, compression },
    async (server, clients) => {
      const measure = async (durationMs: number) =>
        summarize(
          await clients.caller.call(
            'bytes',
            { url: server.url, token: BENCH_TOKENS.viewer, durationMs, pollIntervalMs: 1000, encoding },
            durationMs + 60_000,
          ),
        )
      // Let the demo swarm get going: agents busy, tasks finishing, metrics sampled.
      await sleep(3000)
      const fresh = freshMs > 0 ? await measure(freshMs) : null
      // Fill the finished-task history the snapshot carries, on helper agents that then leave (50 agents again).
      await server.child.caller.call('prefill', { tasks: HISTORY }, 30_000)
      await sleep(2000)
      const full = await measure(fullMs)
      return { fresh, full }
    },
  )
}

const kb = (bytes: number) => Math.round(bytes / 102.4) / 10

function rows(label: string, phase: BytesPhase): Cell[][] {
  const { report, perMinute } = phase
  const scale = 60_000 / report.durationMs
  return [
    [
      `${label}: push`,
      kb(report.push.down * scale),
      kb(report.push.up * scale),
      kb(perMinute.push),
      report.push.messages,
      `${kb(perMinute.pushDeflate)} (deflate, ${report.push.deflate ? 'negotiated' : 'estimated'})`,
      `${(phase.reduction * 100).toFixed(1)} %`,
    ],
    [
      `${label}: poll 1 s`,
      kb(report.poll.down * scale),
      kb(report.poll.up * scale),
      kb(perMinute.poll),
      report.poll.requests,
      `${kb(perMinute.pollGzip)} (gzip, estimated)`,
      `${kb(report.poll.meanBodyBytes)} KB body`,
    ],
  ]
}

export function bytesTable(title: string, fresh: BytesPhase | null, full: BytesPhase): string {
  return table(
    title,
    ['client', 'KB/min down', 'KB/min up', 'KB/min total', 'messages', 'compressed KB/min', 'push saves / snapshot'],
    [...(fresh ? rows('fresh server', fresh) : []), ...rows(`history full (${HISTORY} tasks)`, full)],
  )
}

export const bytes: Scenario = {
  name: 'bytes',
  summary: 'bytes per client-minute, push vs 1 s polling of /api/snapshot, 50 demo agents',
  async run(settings): Promise<ScenarioOutcome> {
    const freshMs = settings.quick ? 4000 : 15_000
    const fullMs = settings.quick ? 6000 : 45_000
    const measured = await measureBytes(freshMs, fullMs, false)
    const full = measured.full
    const fresh = measured.fresh!
    const both = (phase: BytesPhase) => (1 - phase.perMinute.pushDeflate / phase.perMinute.pollGzip) * 100
    return {
      result: { agents: AGENTS, demoRate: DEMO_RATE, history: HISTORY, fresh, full },
      report:
        bytesTable(
          `Bytes per client-minute, ${AGENTS} demo agents at ${DEMO_RATE} tasks/s, counted on the TCP stream (steady state, handshake excluded)`,
          fresh,
          full,
        ) +
        `\nwith compression on both sides push saves ${both(fresh).toFixed(1)} % (fresh) / ${both(full).toFixed(1)} % (history full)`,
      verdicts: [
        {
          target: `bytes per client-minute: push ≥ 95 % less than 1 s polling (50 agents, history full)`,
          measured: `${(full.reduction * 100).toFixed(1)} % less (${kb(full.perMinute.push)} vs ${kb(full.perMinute.poll)} KB/min)`,
          met: full.reduction >= TARGET_REDUCTION,
        },
        {
          target: `… the same on a fresh server (small snapshot)`,
          measured: `${(fresh.reduction * 100).toFixed(1)} % less (${kb(fresh.perMinute.push)} vs ${kb(fresh.perMinute.poll)} KB/min)`,
          met: fresh.reduction >= TARGET_REDUCTION,
        },
      ],
    }
  },
}
