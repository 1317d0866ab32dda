/**
 * The server under test, in its own process: a real core (createCore) on
 * 127.0.0.1, port 0, a temporary data dir, fixed bench tokens, console
 * logging off; plus the load injector. Driven by the orchestrator over IPC.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as sourceCore from '../src/main/core'
import type { Core } from '../src/main/core'
import { BENCH_TOKEN_ENV, BENCH_TOKENS, type ServerApi, type ServerSetup } from './api'
import { Baseline } from './baseline'
import { loadBuiltCore } from './built-core'
import { Injector } from './injector'
import { collectGarbage, sampleProcess } from './process-sample'
import { serve } from './rpc'

let core: Core | null = null
let injector: Injector | null = null
let dataDir: string | null = null
let baseline: Baseline | null = null
let injectorAgents = 0

function argvFor(setup: ServerSetup, dir: string | null): string[] {
  return [
    ...['--host', '127.0.0.1', '--port', '0', '--log-level', 'warn', '--local-agents', '0'],
    ...(dir ? ['--data-dir', dir] : []),
    ...(setup.demo ? ['--demo', '--demo-agents', String(setup.demoAgents), '--demo-rate', String(setup.demoRate)] : []),
    ...(setup.demo ? [] : ['--no-demo']),
    ...(setup.compression ? ['--ws-compression'] : []),
    ...(setup.database ? ['--database', setup.database] : []),
    ...(setup.flags ?? []),
  ]
}

serve<ServerApi>({
  async start(setup) {
    if (core || baseline) throw new Error('already started')
    if (setup.baseline) {
      baseline = new Baseline(setup.compression)
      return { url: await baseline.start(), pid: process.pid }
    }
    // A scenario that names its own (the cluster's, kept across a kill -9) removes it itself.
    if (!setup.flags?.includes('--data-dir')) dataDir = mkdtempSync(join(tmpdir(), 'sm-bench-'))
    const { createCore, loadConfig } = setup.built ? loadBuiltCore() : sourceCore
    const config = loadConfig(argvFor(setup, dataDir), {}, setup.rendererDir ?? null)
    core = createCore(config, { console: false, env: BENCH_TOKEN_ENV })
    await core.start()
    injectorAgents = setup.injectorAgents
    // A cluster node leads only once elected, and a follower's coordinator is not running: its agents come at the first load.
    if (config.redis === null) injector = new Injector(core.coordinator, injectorAgents)
    return { url: core.url, pid: process.pid }
  },

  async seq() {
    if (baseline) return baseline.seq
    if (!core) throw new Error('not started')
    const response = await fetch(`${core.url}/api/snapshot`, {
      headers: { authorization: `Bearer ${BENCH_TOKENS.viewer}` },
      signal: AbortSignal.timeout(10_000),
    })
    if (!response.ok) throw new Error(`GET /api/snapshot answered ${response.status}`)
    return ((await response.json()) as { seq: number }).seq
  },

  async runLoad(spec) {
    if (baseline) return baseline.run(spec)
    if (!core) throw new Error('not started')
    if (!injector && core.cluster.role() !== 'leader') throw new Error('this node is not the leader')
    injector ??= new Injector(core.coordinator, injectorAgents)
    return injector.run(spec)
  },

  async prefill({ tasks }) {
    if (!injector) throw new Error('not started')
    const report = await injector.run({
      tasksPerS: tasks * 2,
      taskMs: 0,
      heartbeatsPerS: 0,
      logsPerS: 0,
      durationMs: 500,
    })
    injector.removeAgents()
    return report
  },

  async park({ tasks, kind }) {
    if (!core) throw new Error('not started')
    for (let i = 0; i < tasks; i++) {
      // A capability no agent offers: they wait in the queue until the scenario acts on them.
      core.coordinator.submit({
        name: `parked ${i}`,
        kind,
        payload: {},
        priority: 0,
        capabilities: ['parked'],
        timeoutMs: null,
        maxRetries: 0,
      })
      if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve))
    }
    return { queued: core.coordinator.counts().queued }
  },

  async sample({ gc }) {
    if (gc) {
      collectGarbage()
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return sampleProcess()
  },

  async stop() {
    injector?.stop()
    await core?.stop()
    await baseline?.stop()
    core = null
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    setTimeout(() => process.exit(0), 50).unref()
    return null
  },
})
