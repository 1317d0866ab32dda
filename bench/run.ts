/**
 * `npm run bench`: runs the scenarios one after another, each with its own
 * server process (the core under test) and load-client process, prints a
 * table per scenario and a verdict per SPEC quality target, and writes
 * everything to bench/results/<date>.json. Bounded: every scenario, every
 * call and the whole run have deadlines.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs, USAGE } from './args'
import { deadline, killChildren, runMain } from './child'
import { CpuWatch, descendantPids, waitQuiet, type CpuShare } from './cpu-watch'
import { machine } from './machine'
import type { Scenario, Verdict } from './scenario'
import { agentRate } from './scenarios/agent-rate'
import { batched } from './scenarios/batched'
import { bulk10k } from './scenarios/bulk'
import { bytes } from './scenarios/bytes'
import { capacity } from './scenarios/capacity'
import { cluster } from './scenarios/cluster'
import { compression } from './scenarios/compression'
import { hostile } from './scenarios/hostile'
import { latency } from './scenarios/latency'
import { memory } from './scenarios/memory'
import { renderer } from './scenarios/renderer'
import { search } from './scenarios/search'
import { soak } from './scenarios/soak'
import { submit } from './scenarios/submit'
import { throughput } from './scenarios/throughput'
import { viewers } from './scenarios/viewers'
import { table } from './table'

const SCENARIOS: Scenario[] = [
  latency,
  batched,
  throughput,
  memory,
  bytes,
  renderer,
  soak,
  compression,
  capacity,
  viewers,
  agentRate,
  submit,
  hostile,
  search,
  bulk10k,
  cluster,
]

interface ScenarioRecord {
  name: string
  summary: string
  ms: number
  ok: boolean
  error?: string
  result?: unknown
  /** CPU of the whole machine while the scenario ran, split into the bench's and other programs'. */
  cpu?: CpuShare | null
  verdicts: Verdict[]
}

async function main(): Promise<number> {
  const args = parseArgs(
    process.argv.slice(2),
    SCENARIOS.map((scenario) => scenario.name),
  )
  if (args.help) {
    console.log(USAGE)
    return 0
  }
  const settings = { quick: args.quick, minutes: args.minutes }
  const selected = SCENARIOS.filter((scenario) =>
    args.only === null ? !scenario.optIn : args.only.includes(scenario.name),
  )
  const started = new Date()
  const facts = machine()
  console.log(
    `Swarm Monitor bench — ${started.toISOString()} — ${facts.nproc} CPUs (${facts.cpu}), node ${facts.node}, ` +
      `load average ${facts.loadAverage.join(' ')}, commit ${facts.commit}${facts.dirty ? ' + uncommitted src changes' : ''}${args.quick ? ' — QUICK' : ''}`,
  )
  // Whole-run budget: a default run takes ~14 minutes (the renderer 2.2 of them, hostile 5), a quick one ~3.5;
  // the soak adds its own length.
  const budgetMs =
    (args.quick ? 8 : 26) * 60_000 +
    (args.quick ? 0 : Math.max(0, args.minutes - 1) * 60_000) +
    args.waitQuiet * 1000 * selected.length
  // The bench's own CPU: every process below this one (server, clients, Chromium and its helpers).
  const watch = new CpuWatch(() => descendantPids())
  watch.start()
  const records: ScenarioRecord[] = []
  for (const scenario of selected) {
    const elapsed = Date.now() - started.getTime()
    if (elapsed > budgetMs) {
      records.push({ ...describe(scenario), ms: 0, ok: false, error: 'skipped: run budget used up', verdicts: [] })
      continue
    }
    console.log(`\n▶ ${scenario.name}: ${scenario.summary}`)
    if (args.waitQuiet > 0) {
      const quiet = await waitQuiet(args.waitQuiet)
      console.log(`  waited ${quiet.waitedS} s for a quiet machine: other programs at ${quiet.otherPct} % of one core`)
    }
    const t0 = Date.now()
    watch.lap()
    try {
      const outcome = await deadline(scenario.run(settings), budgetMs - elapsed, scenario.name)
      const cpu = watch.lap()
      console.log(outcome.report)
      console.log(cpuLine(cpu))
      records.push({
        ...describe(scenario),
        ms: Date.now() - t0,
        ok: true,
        result: outcome.result,
        cpu,
        verdicts: outcome.verdicts,
      })
    } catch (error) {
      killChildren()
      const message = error instanceof Error ? error.message : String(error)
      console.log(`  ✗ ${scenario.name} failed: ${message}`)
      records.push({
        ...describe(scenario),
        ms: Date.now() - t0,
        ok: false,
        error: message,
        cpu: watch.lap(),
        verdicts: [],
      })
    }
  }
  watch.stop()

  const verdicts = records.flatMap((record) => record.verdicts)
  console.log(
    table(
      'SPEC quality targets',
      ['target', 'measured', 'met'],
      verdicts.map((verdict) => [verdict.target, verdict.measured, verdict.met === null ? 'n/a' : verdict.met]),
    ),
  )
  const file = writeResults({
    date: started.toISOString(),
    command: `npm run bench --${args.quick ? ' --quick' : ''}${args.only ? ` --only ${args.only.join(',')}` : ''}${args.minutes !== 1 ? ` --minutes ${args.minutes}` : ''}${args.waitQuiet ? ` --wait-quiet ${args.waitQuiet}` : ''}`,
    machine: facts,
    settings,
    totalMs: Date.now() - started.getTime(),
    scenarios: records,
  })
  console.log(`\nresults: ${file} (${Math.round((Date.now() - started.getTime()) / 1000)} s)`)
  return records.every((record) => record.ok) ? 0 : 1
}

function cpuLine(cpu: CpuShare | null): string {
  if (!cpu) return ''
  const warning = cpu.otherPct >= 20 ? ' — other programs were busy: figures are pessimistic' : ''
  return `machine CPU ${cpu.machinePct} % of one core (bench ${cpu.benchPct} %, other programs ${cpu.otherPct} %)${warning}`
}

function describe(scenario: Scenario): Pick<ScenarioRecord, 'name' | 'summary'> {
  return { name: scenario.name, summary: scenario.summary }
}

function writeResults(results: { date: string } & Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const file = `${dir}${results.date.replace(/[:.]/g, '-')}.json`
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n')
  return file
}

runMain(main)
