/**
 * Searching a big history, per backend: 1,000,000 finished tasks with 10 log
 * lines each (`--quick`: 100,000), written straight into the database
 * (search-fill.ts, through the storage backend, not the API), then a server
 * started on it and searched through the API (search-run.ts): latency
 * p50/p99 per kind of query, the server's event-loop delay meanwhile (SQLite
 * answers on the server's thread), its start time (it reads the history
 * back) and one export. No target in the spec: the figures are reported.
 *
 * PostgreSQL runs in a temp dir on loopback (tests/helpers/postgres.ts) with
 * fsync off (reads are measured; it only makes the fill quicker); its GIN
 * indexes are built after the fill, as an operator importing data would,
 * then VACUUM ANALYZE runs, as autovacuum would.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseTarget } from '../../src/main/core/config/database-url'
import { historyBackend } from '../../src/main/core/storage/open-history'
import { startPostgres, type Postgres } from '../../tests/helpers/postgres'
import { BENCH_TOKENS } from '../api'
import { NO_DEMO, startServer } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { fillHistory } from '../search-fill'
import { runCase, runExport, SEARCH_CASES, type CaseReport } from '../search-run'
import { table } from '../table'

const LINES_PER_TASK = 10

interface BackendReport {
  backend: string
  fillMs: number
  indexMs: number
  databaseMb: number | null
  startMs: number
  serverRssMb: number
  cases: (CaseReport & { loopDelayMaxMs: number })[]
  export: { query: string; rows: number; mb: number; ms: number; rowsPerS: number; loopDelayMaxMs: number }
}

async function prepare(
  name: 'SQLite' | 'PostgreSQL',
  tasks: number,
  pg: Postgres,
): Promise<{ target: DatabaseTarget; url: string; fillMs: number; indexMs: number; size: () => number | null }> {
  let target: DatabaseTarget
  let database = ''
  if (name === 'SQLite') {
    const file = join(mkdtempSync(join(tmpdir(), 'sm-search-')), 'swarm.db')
    target = { kind: 'sqlite', file }
  } else {
    const made = await pg.createDatabase()
    database = made.name
    target = { kind: 'postgres', url: made.url }
  }
  const backend = historyBackend(target)
  await backend.open()
  if (name === 'PostgreSQL') await pg.sql(database, 'DROP INDEX tasks_search, task_logs_search')
  let shown = 0
  const { ms: fillMs } = await fillHistory(
    backend,
    {
      tasks,
      linesPerTask: LINES_PER_TASK,
      batchTasks: 2500,
      concurrency: name === 'SQLite' ? 1 : 3,
      now: Date.now() - 60_000,
      spacingMs: 2000,
    },
    (done) => {
      if (done - shown >= tasks / 4) {
        shown = done
        console.log(`  ${name}: ${done.toLocaleString('en-US')} tasks written`)
      }
    },
  )
  await backend.close()
  const indexed = performance.now()
  if (name === 'PostgreSQL') {
    await pg.sql(database, 'CREATE INDEX tasks_search ON tasks USING gin (search)')
    await pg.sql(
      database,
      "SET maintenance_work_mem = '256MB'; CREATE INDEX task_logs_search ON task_logs USING gin (search)",
    )
    await pg.sql(database, 'VACUUM ANALYZE')
  }
  const indexMs = Math.round(performance.now() - indexed)
  const size = target.kind === 'sqlite' ? () => Math.round(statSync(target.file).size / 1e6) : () => null
  return { target, url: target.kind === 'sqlite' ? `sqlite:${target.file}` : target.url, fillMs, indexMs, size }
}

export const search: Scenario = {
  name: 'search',
  summary: 'full-text search latency over 1,000,000 stored tasks with 10 log lines each, on SQLite and on PostgreSQL',
  optIn: true,
  async run(settings): Promise<ScenarioOutcome> {
    const tasks = settings.quick ? 100_000 : 1_000_000
    const budget = settings.quick ? { requests: 20, ms: 5_000 } : { requests: 50, ms: 20_000 }
    const pg = await startPostgres({ fsync: false })
    const reports: BackendReport[] = []
    try {
      for (const name of ['SQLite', 'PostgreSQL'] as const) {
        const prepared = await prepare(name, tasks, pg)
        const databaseMb = prepared.size()
        const t0 = performance.now()
        const server = await startServer(
          {
            ...NO_DEMO,
            injectorAgents: 0,
            database: prepared.url,
            flags: ['--retention-tasks', String(tasks * 2), '--retention-days', '3650'],
          },
          600_000,
        )
        const startMs = Math.round(performance.now() - t0)
        try {
          const loopMax = async () => (await server.child.caller.call('sample', { gc: false })).loopDelayMaxMs
          await loopMax()
          const cases: BackendReport['cases'] = []
          for (const one of SEARCH_CASES) {
            const report = await runCase(server.url, BENCH_TOKENS.viewer, tasks, one, budget)
            cases.push({ ...report, loopDelayMaxMs: await loopMax() })
          }
          const query = 'format=csv&kind=etl'
          const exported = await runExport(server.url, BENCH_TOKENS.viewer, query)
          const exportLoopMaxMs = await loopMax()
          const serverRssMb = (await server.child.caller.call('sample', { gc: true })).rssMb
          reports.push({
            backend: name,
            fillMs: prepared.fillMs,
            indexMs: prepared.indexMs,
            databaseMb,
            startMs,
            serverRssMb,
            cases,
            export: { query, ...exported, loopDelayMaxMs: exportLoopMaxMs },
          })
        } finally {
          await server.child.stop('stop')
          if (prepared.target.kind === 'sqlite')
            rmSync(join(prepared.target.file, '..'), { recursive: true, force: true })
        }
      }
    } finally {
      pg.destroy()
    }
    const failed = reports.flatMap((r) => r.cases).reduce((sum, c) => sum + c.failed, 0)
    const report = [
      table(
        `Filled: ${tasks.toLocaleString('en-US')} tasks × ${LINES_PER_TASK} log lines, written through the storage backend`,
        ['backend', 'fill s', 'indexes s', 'db MB', 'server start s', 'server RSS MB'],
        reports.map((r) => [
          r.backend,
          Math.round(r.fillMs / 100) / 10,
          Math.round(r.indexMs / 100) / 10,
          r.databaseMb,
          Math.round(r.startMs / 100) / 10,
          r.serverRssMb,
        ]),
      ),
      table(
        'Search through the API (one request at a time; loop max: the server event loop’s longest delay meanwhile)',
        ['backend', 'query', 'matched', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'loop max ms', 'failed'],
        reports.flatMap((r) =>
          r.cases.map((c) => [
            r.backend,
            c.name,
            c.matched,
            c.requests,
            c.latency.p50,
            c.latency.p99,
            c.latency.max,
            c.loopDelayMaxMs,
            c.failed,
          ]),
        ),
      ),
      table(
        'Export through the API (GET /api/tasks/export, read to the end)',
        ['backend', 'query', 'rows', 'MB', 's', 'rows/s', 'loop max ms'],
        reports.map((r) => [
          r.backend,
          r.export.query,
          r.export.rows,
          r.export.mb,
          Math.round(r.export.ms / 100) / 10,
          r.export.rowsPerS,
          r.export.loopDelayMaxMs,
        ]),
      ),
    ].join('\n')
    return {
      result: { tasks, linesPerTask: LINES_PER_TASK, budget, reports },
      report,
      verdicts: [
        {
          target: `search over ${tasks.toLocaleString('en-US')} tasks (no target; reported)`,
          measured: reports
            .map((r) => `${r.backend}: rare word p50 ${r.cases[0]!.latency.p50} ms / p99 ${r.cases[0]!.latency.p99} ms`)
            .join(', '),
          met: failed === 0 ? null : false,
        },
      ],
    }
  },
}
