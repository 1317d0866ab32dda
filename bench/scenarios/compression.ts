/**
 * WebSocket compression on: the same latency, throughput and bytes
 * measurements with permessage-deflate negotiated. Needs the core to accept
 * the switch (CoreOptions `perMessageDeflate`); until it does, this scenario
 * says so, and the bytes scenario's deflate estimate stands in.
 */
import { BENCH_TOKENS } from '../api'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { bytesTable, measureBytes } from './bytes'
import { estimateCompression } from './compression-estimate'
import { latencyTable, measureLatency } from './latency'
import { measureThroughput, throughputTable } from './throughput'

export const NEEDED_OPTION = 'CoreOptions.perMessageDeflate: boolean (Socket.IO Server option perMessageDeflate)'

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
  summary: 'latency, throughput and bytes with WebSocket permessage-deflate on',
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
    const latency = await measureLatency(settings, [100], { ...NO_DEMO, compression: true })
    const throughput = await measureThroughput(
      settings,
      settings.quick ? [2000, 5000] : [2000, 5000, 10_000, 20_000],
      true,
    )
    const bytes = await measureBytes(settings.quick ? 8000 : 15_000, settings.quick ? 12_000 : 30_000, true)
    const best = throughput.rows.filter((row) => row.converged).at(-1)
    return {
      result: { available: true, latency: latency.rows, throughput: throughput.rows, bytes },
      report:
        latencyTable('Compression on — immediate events, 100 clients', latency.rows) +
        throughputTable('Compression on — throughput, 100 clients', throughput.rows) +
        bytesTable(
          'Compression on — bytes per client-minute (push compressed; poll uncompressed)',
          bytes.fresh,
          bytes.full,
        ),
      verdicts: [
        {
          target: 'compression on vs off reported',
          measured: `on: p99 ${latency.rows[0]?.median.p99 ?? '–'} ms at 100 clients; converges up to ${best?.inPerS ?? 0} events/s`,
          met: null,
        },
      ],
    }
  },
}
