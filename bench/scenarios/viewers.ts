/**
 * 10,000 viewers on one server process, at a light event rate: all
 * connected, every one converged (seq and state equal to the server's
 * snapshot), the server's resident memory per connection (after a full GC,
 * against the same process with none), and its event-loop delay under the
 * load. The viewers offer `deflate-raw`, as the renderer does.
 *
 * The server's caps are raised explicitly: `--max-viewers 10000` (its
 * default) and `--max-viewers-per-token 10000` (default 5,000; the bench
 * connects everything with the viewer token). Sessions that have not joined
 * a namespace are capped at 1,000 in all, this machine's own clients
 * included, so the viewers connect in waves of at most 400 in flight. The
 * clients run in 4 processes (client-pool.ts), which says when they were
 * the limit.
 */
import { BENCH_TOKENS, type LoadSpec, type ProcessSample } from '../api'
import { sleep } from '../child'
import { ClientPool, type ClientLoad } from '../client-pool'
import { NO_DEMO, startServer } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { table } from '../table'

const VIEWERS = 10_000
const PROCESSES = 4
const IN_FLIGHT = 400
export const VIEWER_FLAGS = ['--max-viewers', String(VIEWERS), '--max-viewers-per-token', String(VIEWERS)]
const TARGET_KB = 20

/** A light load: a log line a second and a task every 5 s (~6 events, one leaves at once), besides the 1 s metrics. */
function lightLoad(durationMs: number): LoadSpec {
  return { logsPerS: 1, heartbeatsPerS: 0, tasksPerS: 0.2, taskMs: 50, durationMs }
}

export const viewers: Scenario = {
  name: 'viewers',
  summary: '10,000 viewers on one process at a light event rate: all connected and converged, RSS per connection',
  async run(settings): Promise<ScenarioOutcome> {
    const count = settings.quick ? 2000 : VIEWERS
    const loadMs = settings.quick ? 5000 : 20_000
    console.log(`  server flags set by the bench: ${VIEWER_FLAGS.join(' ')}`)
    const server = await startServer({ ...NO_DEMO, flags: VIEWER_FLAGS, built: true })
    const pool = new ClientPool(PROCESSES)
    try {
      await sleep(1000)
      const idle = await server.child.caller.call('sample', { gc: true })
      const connect = await pool.connect({
        url: server.url,
        token: BENCH_TOKENS.viewer,
        count,
        wave: Math.floor(IN_FLIGHT / PROCESSES),
        timeoutMs: 60_000,
        encoding: 'deflate-raw',
      })
      console.log(
        `  ${connect.connected} connected in ${connect.ms} ms, ${connect.failed} failed ${connect.errors.join('; ')}`,
      )
      await sleep(3000)
      const loaded = await server.child.caller.call('sample', { gc: true })
      const clientMemory = await pool.sample()

      // The light load, the server sampled every 2 s (event-loop delay since the previous sample).
      await server.child.caller.call('sample', { gc: false })
      const clientsMeter = await pool.meter()
      const samples: ProcessSample[] = []
      const load = server.child.caller.call('runLoad', lightLoad(loadMs), loadMs + 60_000)
      const started = Date.now()
      while (Date.now() - started < loadMs) {
        await sleep(2000)
        samples.push(await server.child.caller.call('sample', { gc: false }))
      }
      await load
      const clientLoad: ClientLoad = await clientsMeter()
      const convergence = await pool.converge({ url: server.url, token: BENCH_TOKENS.viewer, timeoutMs: 30_000 })
      const cpuPct =
        samples.length > 1
          ? Math.round(((samples.at(-1)!.cpuMs - samples[0]!.cpuMs) / (samples.at(-1)!.at - samples[0]!.at)) * 100)
          : 0
      await pool.disconnect()
      await sleep(2000)
      const after = await server.child.caller.call('sample', { gc: true })

      const connected = connect.connected
      const perConnection = (key: 'rssMb' | 'heapUsedMb' | 'externalMb') =>
        connected > 0 ? ((loaded[key] - idle[key]) * 1024) / connected : 0
      const rssKb = perConnection('rssMb')
      const loop = {
        p99Ms: Math.max(...samples.map((sample) => sample.loopDelayP99Ms)),
        maxMs: Math.max(...samples.map((sample) => sample.loopDelayMaxMs)),
      }
      const allConverged = convergence.reachedSeq === connected && convergence.stateEqual === connected
      const result = {
        viewers: count,
        processes: PROCESSES,
        flags: VIEWER_FLAGS,
        connect,
        idle,
        loaded,
        after,
        perConnectionKb: { rss: rssKb, heapUsed: perConnection('heapUsedMb'), external: perConnection('externalMb') },
        load: lightLoad(loadMs),
        serverCpuPct: cpuPct,
        loop,
        clientLoad,
        clientMemoryMb: clientMemory.map((sample) => Math.round(sample.rssMb)),
        convergence,
      }
      return {
        result,
        report:
          table(
            `${count.toLocaleString('en-US')} viewers (deflate-raw), one server process: memory after a full GC`,
            ['state', 'viewers', 'RSS MB', 'heap used MB', 'external MB'],
            [
              ['no viewers', 0, round(idle.rssMb), round(idle.heapUsedMb), round(idle.externalMb)],
              ['connected', connected, round(loaded.rssMb), round(loaded.heapUsedMb), round(loaded.externalMb)],
              ['after they left', 0, round(after.rssMb), round(after.heapUsedMb), round(after.externalMb)],
            ],
          ) +
          `\nper connection: ${rssKb.toFixed(1)} KB RSS, ${perConnection('heapUsedMb').toFixed(1)} KB heap; ` +
          `connected in ${(connect.ms / 1000).toFixed(1)} s (${connect.failed} failed)` +
          `\nunder the light load (${loadMs / 1000} s): server CPU ${cpuPct} %, event-loop delay p99 ${loop.p99Ms.toFixed(1)} ms, ` +
          `max ${loop.maxMs.toFixed(1)} ms; client processes ${clientLoad.cpuPct.join(' / ')} % CPU, ` +
          `${result.clientMemoryMb.join(' / ')} MB` +
          (clientLoad.limit ? ` — the client side was the limit: ${clientLoad.limit}` : '') +
          `\nconverged: ${convergence.reachedSeq} at the server's seq, ${convergence.stateEqual} equal to its snapshot` +
          (convergence.mismatches.length ? ` (${convergence.mismatches.join('; ')})` : ''),
        verdicts: [
          {
            target: `${count.toLocaleString('en-US')} viewers on one process, all connected and converged`,
            measured: `${connected} connected, ${convergence.stateEqual} converged; event-loop delay max ${loop.maxMs.toFixed(0)} ms`,
            met: settings.quick ? null : connected === VIEWERS && allConverged,
          },
          {
            target: `RSS per connection ≤ ${TARGET_KB} KB`,
            measured: `${rssKb.toFixed(1)} KB`,
            met: settings.quick ? null : rssKb <= TARGET_KB,
          },
        ],
      }
    } finally {
      await pool.stop()
      await server.child.stop('stop')
    }
  },
}

function round(mb: number): number {
  return Math.round(mb * 10) / 10
}
