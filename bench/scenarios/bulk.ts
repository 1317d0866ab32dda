/**
 * Bulk actions on 10,000 tasks, per history backend: the server queues
 * 10,000 tasks no agent can take (`park`), 20 viewers watch, and one
 * `POST /api/tasks/bulk` cancels them all by filter, then another retries
 * them all. Per action: how long until the answer, the server's event-loop
 * delay meanwhile (max and p99, perf_hooks at 10 ms resolution), and the
 * messages each viewer received for the action's events (the batcher's
 * work). Target: the integration test's bound, max delay under 1 s
 * (tests/integration/task-bulk.test.ts); the issue asks for the figure.
 */
import { startPostgres } from '../../tests/helpers/postgres'
import type { TaskBulkAnswer } from '../../src/shared/task-bulk'
import { BENCH_TOKENS } from '../api'
import { sleep } from '../child'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { table } from '../table'

const TASKS = 10_000
const VIEWERS = 20
const BOUND_MS = 1000

interface Row {
  backend: string
  action: 'cancel' | 'retry'
  matched: number
  changed: number
  ms: number
  loopDelayMaxMs: number
  loopDelayP99Ms: number
  /** Messages and events one viewer received, on average, from the action's start until its events had arrived. */
  messagesPerViewer: number
  eventsPerViewer: number
}

async function bulk(url: string, action: 'cancel' | 'retry'): Promise<{ answer: TaskBulkAnswer; ms: number }> {
  const started = performance.now()
  const response = await fetch(`${url}/api/tasks/bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKENS.operator}` },
    body: JSON.stringify({ action, filter: { kind: 'bulk' } }),
    signal: AbortSignal.timeout(120_000),
  })
  const body = (await response.json()) as TaskBulkAnswer
  if (!response.ok)
    throw new Error(`POST /api/tasks/bulk (${action}) answered ${response.status}: ${JSON.stringify(body)}`)
  return { answer: body, ms: Math.round(performance.now() - started) }
}

export const bulk10k: Scenario = {
  name: 'bulk',
  summary: `one bulk cancel and one bulk retry of ${TASKS.toLocaleString('en-US')} tasks: duration and event-loop delay, SQLite and PostgreSQL`,
  async run(): Promise<ScenarioOutcome> {
    const pg = await startPostgres({ fsync: true })
    const rows: Row[] = []
    try {
      const backends = [
        { backend: 'SQLite', database: undefined },
        { backend: 'PostgreSQL', database: (await pg.createDatabase()).url },
      ]
      for (const { backend, database } of backends) {
        await withProcesses({ ...NO_DEMO, injectorAgents: 0, database }, async (server, clients) => {
          const connect = await clients.caller.call(
            'connect',
            { url: server.url, token: BENCH_TOKENS.viewer, count: VIEWERS, wave: VIEWERS, timeoutMs: 20_000 },
            60_000,
          )
          if (connect.failed > 0) throw new Error(`${connect.failed} viewers failed to connect`)
          const parked = await server.child.caller.call('park', { tasks: TASKS, kind: 'bulk' }, 120_000)
          if (parked.queued !== TASKS) throw new Error(`${parked.queued} tasks queued, not ${TASKS}`)
          // The new tasks' commits and their events to the viewers are done before anything is measured.
          await sleep(2000)
          for (const action of ['cancel', 'retry'] as const) {
            await clients.caller.call('reset', null)
            await server.child.caller.call('sample', { gc: false })
            const { answer, ms } = await bulk(server.url, action)
            const loop = await server.child.caller.call('sample', { gc: false })
            // The last batches are on their way.
            await sleep(500)
            const stats = await clients.caller.call('stats', null)
            rows.push({
              backend,
              action,
              matched: answer.matched,
              changed: answer.changed,
              ms,
              loopDelayMaxMs: Math.round(loop.loopDelayMaxMs),
              loopDelayP99Ms: Math.round(loop.loopDelayP99Ms),
              messagesPerViewer: Math.round(stats.messages / VIEWERS),
              eventsPerViewer: Math.round(stats.events / VIEWERS),
            })
          }
        })
      }
    } finally {
      pg.destroy()
    }
    const met = rows.every((row) => row.changed === TASKS && row.loopDelayMaxMs < BOUND_MS)
    return {
      result: { tasks: TASKS, viewers: VIEWERS, rows },
      report: table(
        `Bulk actions on ${TASKS.toLocaleString('en-US')} tasks by filter, ${VIEWERS} viewers watching`,
        [
          'backend',
          'action',
          'matched',
          'changed',
          'answer ms',
          'loop max ms',
          'loop p99 ms',
          'msgs/viewer',
          'events/viewer',
        ],
        rows.map((row) => [
          row.backend,
          row.action,
          row.matched,
          row.changed,
          row.ms,
          row.loopDelayMaxMs,
          row.loopDelayP99Ms,
          row.messagesPerViewer,
          row.eventsPerViewer,
        ]),
      ),
      verdicts: [
        {
          target: `a bulk action on ${TASKS.toLocaleString('en-US')} tasks keeps the event-loop delay under ${BOUND_MS} ms`,
          measured: rows
            .map((row) => `${row.backend} ${row.action}: ${row.ms} ms, loop max ${row.loopDelayMaxMs} ms`)
            .join('; '),
          met,
        },
      ],
    }
  },
}
