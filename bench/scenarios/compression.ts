/**
 * WebSocket compression on (`--ws-compression`): the same latency,
 * throughput and bytes measurements with permessage-deflate negotiated,
 * plus the estimate of what it costs per viewer. Should a core not
 * negotiate it, the scenario says so and reports the estimate alone.
 */
import { BENCH_TOKENS } from '../api'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { bytesTable, measureBytes } from './bytes'
import { estimateCompression } from './compression-estimate'
import { latencyTable, measureLatency } from './latency'
import { fastest, measureThroughput, throughputTable } from './throughput'

export const NEEDED_OPTION = 'the --ws-compression setting'

async function compressionAvailable(): Promise<boolean> {
  return withProcesses({ ...NO_DEMO, compression: true }, async (server, clients) => {
    const connect = await clients.caller.call(
      'connect',
      { url: server.url, token: BENCH_TOKENS.viewer, count: 1, wave: 1, timeoutMs: 10_000 },
      30_000,
    )
    return connect.deflate
  })
}

export const compression: Scenario = {
  name: 'compression',
  summary: 'latency, throughput and bytes with WebSocket permessage-deflate on; bytes with deflate-raw',
  async run(settings): Promise<ScenarioOutcome> {
    if (!(await compressionAvailable())) {
      const estimate = await estimateCompression(settings.quick)
      const ratio = (estimate.deflatedBytes / estimate.rawBytes) * 100
      return {
        result: { available: false, needed: NEEDED_OPTION, estimate },
        report:
          `\nCompression on: not measured end to end — the core does not negotiate permessage-deflate yet (needs ${NEEDED_OPTION}).` +
          `\nEstimate from the recorded stream of the mixed load at ${estimate.eventsPerS.toLocaleString('en-US')} events/s ` +
          `(${estimate.messages} messages): deflate sends ${ratio.toFixed(0)} % of the bytes and costs ` +
          `${estimate.cpuMsPerLoadSecond} ms CPU per second of load for ${estimate.viewers} viewers — compression alone would fill ` +
          `one core at ~${estimate.ceilingEventsPerS.toLocaleString('en-US')} events/s (the bytes scenario has the per-client-minute figures).`,
        verdicts: [
          {
            target: 'compression on vs off reported',
            measured: `on: estimated ${ratio.toFixed(0)} % of the bytes, one core full at ~${estimate.ceilingEventsPerS.toLocaleString('en-US')} events/s with ${estimate.viewers} clients`,
            met: null,
          },
        ],
      }
    }
    // Shorter than the uncompressed scenarios (one latency run, two steps, one bytes phase): the run has a time budget.
    const latency = await measureLatency(settings, [100], { ...NO_DEMO, compression: true }, 1)
    const throughput = await measureThroughput(settings, settings.quick ? [2000] : [2000, 5000], true)
    const bytes = await measureBytes(0, settings.quick ? 5000 : 20_000, true)
    // The viewer asking for deflate-raw instead (no permessage-deflate): what the dashboard gets by default.
    const bytesRaw = await measureBytes(0, settings.quick ? 5000 : 20_000, false, 'deflate-raw')
    const best = fastest(throughput.rows.filter((row) => row.converged))
    const alone = fastest(throughput.rows.filter((row) => row.withoutResync))
    return {
      result: { available: true, latency: latency.rows, throughput: throughput.rows, bytes, bytesRaw },
      report:
        latencyTable('Compression on — immediate events, 100 clients', latency.rows) +
        throughputTable('Compression on — throughput, 100 clients', throughput.rows) +
        bytesTable(
          'Compression on — bytes per client-minute (push compressed; poll uncompressed)',
          bytes.fresh,
          bytes.full,
        ) +
        bytesTable(
          'deflate-raw negotiated instead (no permessage-deflate) — bytes per client-minute',
          bytesRaw.fresh,
          bytesRaw.full,
        ),
      verdicts: [
        {
          target: 'compression on vs off reported',
          measured:
            `on: p50 ${latency.rows[0]?.median.p50 ?? '–'} / p99 ${latency.rows[0]?.median.p99 ?? '–'} ms at 100 clients; ` +
            `clients keep up on events alone up to ${alone?.inPerS ?? 0} events/s (with resyncs up to ${best?.inPerS ?? 0}); ` +
            `push ${(bytes.full.reduction * 100).toFixed(1)} % below polling (deflate-raw instead: ` +
            `${(bytesRaw.full.reduction * 100).toFixed(1)} %, ${Math.round(bytesRaw.full.perMinute.push / 1024)} KB/min)`,
          met: null,
        },
      ],
    }
  },
}
