/**
 * Submit throughput with durability, per history backend: tasks a second
 * `POST /api/tasks` accepts when every `201` waits for the task's commit
 * (SQLite: the default file in the data dir; PostgreSQL: a server this
 * scenario starts in a temp dir on loopback, with its default durability —
 * `fsync` and `synchronous_commit` on). Lanes of one request in flight each,
 * from the client process. No target in the spec: the figures are reported,
 * and a run with any refusal or lost request is marked.
 */
import { startPostgres } from '../../tests/helpers/postgres'
import { BENCH_TOKENS, type SubmitRunReport } from '../api'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { table } from '../table'

const CONCURRENCY = [1, 8, 32]

interface Row extends SubmitRunReport {
  backend: string
  concurrency: number
}

export const submit: Scenario = {
  name: 'submit',
  summary: 'tasks a second accepted by POST /api/tasks, each durable before its 201, on SQLite and on PostgreSQL',
  async run(settings): Promise<ScenarioOutcome> {
    const durationMs = settings.quick ? 3000 : 10_000
    const pg = await startPostgres({ fsync: true })
    const rows: Row[] = []
    try {
      const backends = [
        { backend: 'SQLite', database: undefined },
        { backend: 'PostgreSQL', database: (await pg.createDatabase()).url },
      ]
      for (const { backend, database } of backends) {
        await withProcesses({ ...NO_DEMO, injectorAgents: 0, database }, async (server, clients) => {
          for (const concurrency of CONCURRENCY) {
            const report = await clients.caller.call(
              'submitRun',
              { url: server.url, token: BENCH_TOKENS.operator, concurrency, durationMs },
              durationMs + 60_000,
            )
            rows.push({ backend, concurrency, ...report })
          }
        })
      }
    } finally {
      pg.destroy()
    }
    const clean = rows.every((row) => row.failed === 0 && Object.keys(row.refused).length === 0)
    return {
      result: { durationMs, rows },
      report: table(
        `Submissions accepted with durability (POST /api/tasks, ${durationMs / 1000} s per row)`,
        ['backend', 'in flight', 'accepted', 'tasks/s', 'p50 ms', 'p99 ms', 'refused', 'failed'],
        rows.map((row) => [
          row.backend,
          row.concurrency,
          row.accepted,
          row.perSecond,
          row.latency.p50,
          row.latency.p99,
          Object.values(row.refused).reduce((a, b) => a + b, 0),
          row.failed,
        ]),
      ),
      verdicts: [
        {
          target: 'submit throughput with durability (no target; reported)',
          measured: rows.map((row) => `${row.backend} ×${row.concurrency}: ${row.perSecond}/s`).join(', '),
          met: clean ? null : false,
        },
      ],
    }
  },
}
