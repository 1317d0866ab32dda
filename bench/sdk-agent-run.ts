/**
 * One SDK agent against the server process, in the client process: queue
 * `tasks` tasks for it alone (over the HTTP API), start a real `createAgent`
 * with a short handler, and time it from registration to the server counting
 * the last task done. Also counts what would show the agent being punished
 * for its pace: rate-limit refusals, lost links, tasks run twice, log lines
 * that never reached a viewer.
 */
import { io, type Socket } from 'socket.io-client'
import { createAgent } from '../src/sdk/agent'
import type { Agent, Task } from '../src/shared/domain'
import type { DashboardClientToServer, DashboardServerToClient } from '../src/shared/protocol'
import { BENCH_TOKENS, type AgentRunReport, type AgentRunRequest } from './api'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function rateLimited(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_TOKENS.viewer}` } })
  const line = (await response.text()).split('\n').find((l) => l.startsWith('swarm_rate_limited_total{via="/agents"} '))
  return line ? Number(line.split(' ')[1]) : 0
}

async function done(url: string, id: string): Promise<number> {
  const response = await fetch(`${url}/api/agents`, { headers: { authorization: `Bearer ${BENCH_TOKENS.viewer}` } })
  const { agents } = (await response.json()) as { agents: Agent[] }
  return agents.find((agent) => agent.id === id)?.counters.done ?? 0
}

async function queueTasks(url: string, id: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - first) }, async (_, i) => {
        const response = await fetch(`${url}/api/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKENS.operator}` },
          body: JSON.stringify({ name: `${id} ${first + i}`, kind: id, capabilities: [id] }),
        })
        if (response.status !== 201) throw new Error(`POST /api/tasks answered ${response.status}`)
        return (await response.json()) as Task
      }),
    )
  }
}

export async function runSdkAgent(request: AgentRunRequest): Promise<AgentRunReport> {
  const { url, id, tasks, concurrency, logLines, progressReports, workMs, timeoutMs } = request
  await queueTasks(url, id, tasks)
  const viewer: Socket<DashboardServerToClient, DashboardClientToServer> = io(`${url}/dashboard`, {
    auth: { token: BENCH_TOKENS.viewer },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  })
  let logLinesSeen = 0
  viewer.on('events', (events) => {
    for (const event of events) if (event.type === 'task:log' && event.message.startsWith(`${id} line`)) logLinesSeen++
  })
  await new Promise<void>((resolve) => viewer.once('snapshot', () => resolve()))
  const limitedBefore = await rateLimited(url)
  const runs = new Map<string, number>()
  let refusals = 0
  const agent = createAgent({
    url,
    token: BENCH_TOKENS.agent,
    id,
    capabilities: [id],
    kinds: [id],
    concurrency,
    metrics: false,
    socket: { transports: ['websocket'] },
    onLog: (_level, message) => {
      if (/refused/.test(message)) refusals++
    },
    handler: async (task, ctx) => {
      runs.set(task.id, (runs.get(task.id) ?? 0) + 1)
      for (let i = 1; i <= progressReports; i++) ctx.progress(i / (progressReports + 1))
      for (let i = 0; i < logLines; i++) ctx.log('info', `${id} line ${i} of ${task.id}`)
      if (workMs > 0) await sleep(workMs)
      return null
    },
  })
  try {
    await agent.connected
    const started = performance.now()
    let completed = 0
    while (completed < tasks && performance.now() - started < timeoutMs) {
      await sleep(50)
      completed = await done(url, id)
    }
    const ms = Math.round(performance.now() - started)
    // The last batch of log lines is on its way (the logs channel waits up to 1 s).
    await sleep(1200)
    return {
      tasks,
      completed,
      ms,
      tasksPerS: Math.round((completed / ms) * 1000 * 10) / 10,
      duplicates: [...runs.values()].filter((count) => count > 1).length,
      rateLimited: (await rateLimited(url)) - limitedBefore,
      refusals,
      reconnects: agent.connection.status.history.filter((t) => t.to === 'reconnecting').length,
      logLinesSeen,
    }
  } finally {
    await agent.close()
    viewer.close()
  }
}
