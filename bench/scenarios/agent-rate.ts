/**
 * The SDK's task rate on one connection: one real SDK agent (client
 * process) drains tasks queued for it alone on the server process, with
 * short handlers that send nothing, or progress and log lines. Measured: tasks
 * a second from registration to the last task done, and whatever would show
 * the per-connection rate limit (50 a second, bursts of 100) punishing it —
 * refusals, lost links, tasks run twice, log lines lost. Target: none of
 * those at any rate (docs/agents.md, "The TypeScript SDK").
 */
import type { AgentRunReport, AgentRunRequest } from '../api'
import { NO_DEMO, withProcesses } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { table } from '../table'

interface Profile {
  name: string
  run: Omit<AgentRunRequest, 'url' | 'id' | 'timeoutMs'>
}

function profiles(quick: boolean): Profile[] {
  const many = quick ? 500 : 3000
  const chatty = quick ? 200 : 800
  return [
    {
      name: 'no reports, concurrency 1',
      run: { tasks: many, concurrency: 1, logLines: 0, progressReports: 0, workMs: 0 },
    },
    {
      name: 'no reports, concurrency 8',
      run: { tasks: many, concurrency: 8, logLines: 0, progressReports: 0, workMs: 0 },
    },
    {
      name: '2 progress + 1 log line, concurrency 8',
      run: { tasks: chatty, concurrency: 8, logLines: 1, progressReports: 2, workMs: 0 },
    },
    {
      name: '5 log lines, 20 ms work, concurrency 8',
      run: { tasks: chatty / 2, concurrency: 8, logLines: 5, progressReports: 0, workMs: 20 },
    },
  ]
}

interface Row extends AgentRunReport {
  profile: string
  clean: boolean
}

export const agentRate: Scenario = {
  name: 'agent-rate',
  summary: 'tasks a second one SDK agent runs on one connection, without a refusal or a lost link',
  async run(settings): Promise<ScenarioOutcome> {
    const list = profiles(settings.quick)
    const rows = await withProcesses({ ...NO_DEMO, injectorAgents: 0 }, async (server, clients) => {
      const rows: Row[] = []
      for (const [i, profile] of list.entries()) {
        const report = await clients.caller.call(
          'agentRun',
          { ...profile.run, url: server.url, id: `rate-${i}`, timeoutMs: 120_000 },
          180_000,
        )
        const clean =
          report.completed === report.tasks &&
          report.duplicates === 0 &&
          report.rateLimited === 0 &&
          report.refusals === 0 &&
          report.reconnects === 0 &&
          report.logLinesSeen === report.tasks * profile.run.logLines
        rows.push({ profile: profile.name, ...report, clean })
      }
      return rows
    })
    const clean = rows.every((row) => row.clean)
    return {
      result: { profiles: list, rows },
      report: table(
        'One SDK agent, one connection: task rate (limit 50 messages/s, bursts of 100)',
        [
          'handler',
          'tasks',
          'done',
          'tasks/s',
          'rate_limited',
          'refusals',
          'reconnects',
          'run twice',
          'log lines seen',
          'clean',
        ],
        rows.map((row) => [
          row.profile,
          row.tasks,
          row.completed,
          row.tasksPerS,
          row.rateLimited,
          row.refusals,
          row.reconnects,
          row.duplicates,
          row.logLinesSeen,
          row.clean,
        ]),
      ),
      verdicts: [
        {
          target: 'an SDK agent at its top task rate is never refused or disconnected, and runs each task once',
          measured: rows.map((row) => `${row.tasksPerS} tasks/s (${row.profile})`).join('; '),
          met: clean,
        },
      ],
    }
  },
}
