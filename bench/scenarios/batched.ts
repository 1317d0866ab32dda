/**
 * Batched delivery: one channel at a time carries a light load with nothing
 * immediate to flush it early, so every event waits for its window at most;
 * each client records arrival − `at`. Target: the maximum within window + 10 ms.
 */
import { DEFAULT_WINDOWS } from '../../src/main/core/pipeline/batcher'
import type { Channel } from '../../src/shared/events'
import { BENCH_TOKENS, type Distribution, type LoadSpec } from '../api'
import { sleep } from '../child'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { table } from '../table'

const CLIENTS = 100
const TOLERANCE_MS = 10

interface Phase {
  channel: Channel
  /** What is injected; the metrics channel is fed by the server's own once-a-second sampler. */
  load: Omit<LoadSpec, 'durationMs'>
}

const PHASES: Phase[] = [
  { channel: 'agents', load: { heartbeatsPerS: 20, logsPerS: 0, tasksPerS: 0, taskMs: 0 } },
  { channel: 'metrics', load: { heartbeatsPerS: 0, logsPerS: 0, tasksPerS: 0, taskMs: 0 } },
  { channel: 'logs', load: { heartbeatsPerS: 0, logsPerS: 20, tasksPerS: 0, taskMs: 0 } },
]

interface PhaseRow extends Distribution {
  channel: Channel
  /** Max delay at the first client each event reached: the window as the pipeline keeps it. */
  firstMax: number
  windowMs: number
  overMs: number
  met: boolean
}

export const batched: Scenario = {
  name: 'batched',
  summary: 'per-channel delay of batched events against the window (+10 ms)',
  async run(settings): Promise<ScenarioOutcome> {
    const durationMs = settings.quick ? 3000 : 10_000
    const rows = await withProcesses(NO_DEMO, async (server, clients) => {
      const connect = await clients.caller.call(
        'connect',
        { url: server.url, token: BENCH_TOKENS.viewer, count: CLIENTS, wave: 100, timeoutMs: 20_000 },
        120_000,
      )
      if (connect.failed > 0) throw new Error(`${connect.failed} clients failed to connect`)
      await sleep(settings.quick ? 500 : 1500)
      const rows: PhaseRow[] = []
      for (const phase of PHASES) {
        await clients.caller.call('reset', null)
        await server.child.caller.call('runLoad', { ...phase.load, durationMs }, durationMs + 30_000)
        // The last batch of a 1 s window is still on its way.
        await sleep(DEFAULT_WINDOWS[phase.channel] + 300)
        const stats = await clients.caller.call('stats', null)
        const distribution = stats.channels[phase.channel]
        const windowMs = DEFAULT_WINDOWS[phase.channel]
        const overMs = Math.round((distribution.max - windowMs) * 10) / 10
        rows.push({
          channel: phase.channel,
          windowMs,
          ...distribution,
          firstMax: stats.firstChannels[phase.channel].max,
          overMs,
          met: distribution.count > 0 && distribution.max <= windowMs + TOLERANCE_MS,
        })
      }
      return rows
    })
    return {
      result: { clients: CLIENTS, durationMs, phases: PHASES, rows },
      report: table(
        `Batched events: arrival − at per channel, ${CLIENTS} clients (target: max ≤ window + ${TOLERANCE_MS} ms)`,
        ['channel', 'window ms', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'max − window', 'max, first client', 'met'],
        rows.map((row) => [
          row.channel,
          row.windowMs,
          row.count,
          row.p50,
          row.p99,
          row.max,
          row.overMs,
          row.firstMax,
          row.met,
        ]),
      ),
      verdicts: rows.map((row) => ({
        target: `${row.channel} batches within ${row.windowMs} ms + ${TOLERANCE_MS} ms`,
        measured: `max ${row.max} ms (p99 ${row.p99} ms; first client max ${row.firstMax} ms)`,
        met: row.met,
      })),
    }
  },
}
