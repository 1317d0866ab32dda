/**
 * Memory per connection: the server's resident memory (VmRSS, after a full
 * GC) with no viewers and with 1,000 idle viewers connected, the core as
 * built in out/main.
 */
import { BENCH_TOKENS, type ProcessSample } from '../api'
import { sleep } from '../child'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { table } from '../table'

const CLIENTS = 1000

export const memory: Scenario = {
  name: 'memory',
  summary: 'server RSS with 0 and 1,000 idle viewers → memory per connection',
  async run(settings): Promise<ScenarioOutcome> {
    // A quick run connects fewer: it checks that the scenario works, the full run measures.
    const target = settings.quick ? 300 : CLIENTS
    // The core as shipped (bench/built-core.ts): under tsx each viewer cost ~5 KB more.
    const result = await withProcesses({ ...NO_DEMO, built: true }, async (server, clients) => {
      const sample = () => server.child.caller.call('sample', { gc: true })
      await sleep(settings.quick ? 1000 : 2000)
      const idle = await sample()
      const connect = await clients.caller.call(
        'connect',
        { url: server.url, token: BENCH_TOKENS.viewer, count: target, wave: 100, timeoutMs: 20_000 },
        180_000,
      )
      await sleep(settings.quick ? 1000 : 3000)
      const loaded = await sample()
      const clientProcess = await clients.caller.call('sample', null)
      await clients.caller.call('disconnect', null)
      await sleep(settings.quick ? 1000 : 2000)
      const after = await sample()
      return { idle, loaded, after, connect, clientProcess }
    })
    const connected = result.connect.connected
    const perConnection = (key: keyof ProcessSample) =>
      connected > 0 ? ((result.loaded[key] - result.idle[key]) * 1024) / connected : 0
    const rssKb = perConnection('rssMb')
    const heapKb = perConnection('heapUsedMb')
    const row = (label: string, sample: ProcessSample, clients: number) => [
      label,
      clients,
      sample.rssMb,
      sample.heapUsedMb,
      sample.externalMb,
    ]
    return {
      result: { ...result, perConnectionKb: { rss: rssKb, heapUsed: heapKb } },
      report:
        table(
          'Memory: server process after a full GC',
          ['state', 'viewers', 'RSS MB', 'heap used MB', 'external MB'],
          [
            row('no viewers', result.idle, 0),
            row(`${connected} idle viewers`, result.loaded, connected),
            row('after they left', result.after, 0),
          ],
        ) +
        `\nper connection: ${rssKb.toFixed(1)} KB RSS, ${heapKb.toFixed(1)} KB heap; ` +
        `${connected} connected in ${result.connect.ms} ms (${result.connect.failed} failed)`,
      verdicts: [
        {
          target: `${CLIENTS.toLocaleString('en-US')} concurrent viewers on one process; memory per connection reported`,
          measured: `${connected} connected, ${rssKb.toFixed(1)} KB RSS per connection`,
          met: target === CLIENTS ? connected === CLIENTS : null,
        },
      ],
    }
  },
}
