/**
 * The hostile scenario's cases: what each one starts beside the server, the
 * load it runs under, and what it counts. The scenario (scenarios/hostile.ts)
 * runs them all the same way: healthy viewers, a baseline, the abuse under
 * load with memory and `/healthz` watched, then convergence.
 */
import { io, type Socket } from 'socket.io-client'
import { createAgent, type SwarmAgent } from '../src/sdk/agent'
import { BENCH_TOKENS, type LoadSpec } from './api'
import { sleep } from './child'
import type { ServerHandle } from './harness'
import { RawSessions, SlowBodies, StalledViewers, type Prober, type ProbeReport } from './hostile'
import { mixedLoad } from './scenario'
import { metric, scrapeMetrics } from './scrape'

/** An abuse under way. */
export interface Abuse {
  /** A line for the timeline. */
  note(): string
  /** Ends the abuse once the load is over; what it counted, and /healthz while it ended, if that is the point. */
  end(prober: Prober): Promise<{ counters: Record<string, number>; leaving?: ProbeReport }>
  /** After the viewers were compared: whatever must stay up until then. */
  cleanup?(): Promise<void>
}

export interface AbuseCase {
  name: string
  /** Healthy viewers beside the abuse, in the client process; they must converge. */
  viewers: number
  /** Before the baseline: e.g. fill the replay buffer. */
  prepare?(server: ServerHandle, quick: boolean): Promise<void>
  load(durationMs: number): LoadSpec
  start(server: ServerHandle): Promise<Abuse>
}

const STALLED = 500
const ASKERS = 10
/** Requests per second each asker sends: just under the per-connection limit. */
const ASK_RATE = 45
/** Slow request bodies kept open, and Engine.IO handshakes a second that join no namespace. */
const SLOW_BODIES = 300
const RAW_SESSIONS_PER_S = 100
/** SDK agents, and tasks a second for them all. */
const SDK_AGENTS = 10
const SDK_TASKS_PER_S = 100

export const summary = (answers: Record<string, number>) =>
  Object.entries(answers)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ')

const prefixed = (prefix: string, values: Record<string, number>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [prefix + key, value]))

function tally(): { counts: Record<string, number>; add(key: string): void } {
  const counts: Record<string, number> = {}
  return { counts, add: (key) => (counts[key] = (counts[key] ?? 0) + 1) }
}

/** 500 viewers that stop reading, kept at 500; then all of them leave at once. */
export const stalledViewers: AbuseCase = {
  name: 'stalled viewers',
  viewers: 10,
  load: (durationMs) => ({ ...mixedLoad(1000, durationMs), logBytes: 2048 }),
  async start(server) {
    const stalled = new StalledViewers(server.url, BENCH_TOKENS.viewer, STALLED)
    stalled.start()
    return {
      note: () => `${stalled.count} stalled open, ${stalled.opened} opened, ${stalled.ended} ended`,
      async end(prober) {
        await prober.report()
        stalled.closeAll()
        await sleep(10_000)
        const leaving = await prober.report()
        return { counters: { stalledOpened: stalled.opened, stalledEnded: stalled.ended }, leaving }
      },
    }
  },
}

/** Viewers asking for replays and widening their subscription at 45 a second each, coming back when cut off. */
export const expensiveAsks: AbuseCase = {
  name: 'expensive asks',
  viewers: 10,
  async prepare(server, quick) {
    // The replay buffer full of 16 KiB lines (its 64 MiB bound keeps about 4,000 of them).
    const durationMs = quick ? 5000 : 15_000
    await server.child.caller.call(
      'runLoad',
      { logsPerS: 400, logBytes: 16_384, heartbeatsPerS: 0, tasksPerS: 0, taskMs: 0, durationMs },
      durationMs + 60_000,
    )
  },
  load: (durationMs) => ({
    logsPerS: 100,
    logBytes: 16_384,
    heartbeatsPerS: 100,
    tasksPerS: 5,
    taskMs: 200,
    durationMs,
  }),
  async start(server) {
    const answers = tally()
    let asking = true
    let reconnects = 0
    const asker = async (syncing: boolean) => {
      while (asking) {
        const socket: Socket = io(`${server.url}/dashboard`, {
          auth: { token: BENCH_TOKENS.viewer },
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
        })
        const ready = await new Promise<boolean>((resolve) => {
          socket.once('snapshot', () => resolve(true))
          socket.once('connect_error', () => resolve(false))
        })
        for (let n = 0; ready && asking && socket.connected; n++) {
          const started = performance.now()
          try {
            const answer = (await (syncing
              ? socket.timeout(10_000).emitWithAck('sync', { sinceSeq: 1 })
              : socket
                  .timeout(10_000)
                  .emitWithAck('subscribe', { channels: n % 2 ? ['agents'] : ['agents', 'tasks', 'logs'] }))) as {
              ok: boolean
              error?: { code: string }
            }
            answers.add(answer.ok ? 'ok' : (answer.error?.code ?? 'error'))
          } catch {
            answers.add('no answer')
          }
          await sleep(Math.max(0, 1000 / ASK_RATE - (performance.now() - started)))
        }
        socket.disconnect()
        if (asking) {
          reconnects++
          await sleep(500)
        }
      }
    }
    const loops = Array.from({ length: 2 * ASKERS }, (_, i) => asker(i < ASKERS))
    return {
      note: () => summary(answers.counts),
      async end() {
        asking = false
        await Promise.all(loops)
        return { counters: { ...prefixed('answers ', answers.counts), askerReconnects: reconnects } }
      },
    }
  },
}

/** Slow request bodies, and Engine.IO sessions that join no namespace or the default one. */
export const connectionAbuse: AbuseCase = {
  name: 'connection abuse',
  viewers: 10,
  load: (durationMs) => mixedLoad(500, durationMs),
  async start(server) {
    const slow = new SlowBodies(server.url, SLOW_BODIES)
    slow.start()
    const raw = new RawSessions(server.url, RAW_SESSIONS_PER_S)
    raw.start()
    return {
      note: () => `slow bodies ${slow.count} open, ${slow.closed} closed; raw: ${summary(raw.answers)}`,
      async end() {
        slow.stop()
        raw.stop()
        const values = await scrapeMetrics(server.url, BENCH_TOKENS.viewer)
        return {
          counters: {
            slowBodiesOpened: slow.opened,
            slowBodiesClosedByServer: slow.closed,
            slowBodiesAnswered: slow.answered,
            ...prefixed('raw ', raw.answers),
            handshakesRefused: metric(values, 'swarm_rate_limited_total{via="handshake"}'),
          },
        }
      },
    }
  },
}

/** Well-behaved SDK agents under a saturated server, and an agent trying to take a live one's id. */
export const agentsUnderLoad: AbuseCase = {
  name: 'agents under load',
  viewers: 100,
  load: (durationMs) => ({
    logsPerS: 1800,
    logLevel: 'error',
    heartbeatsPerS: 0,
    tasksPerS: 0,
    taskMs: 0,
    durationMs,
  }),
  async start(server) {
    const runs = new Map<string, number>()
    let reconnects = 0
    const agents: SwarmAgent[] = []
    for (let i = 0; i < SDK_AGENTS; i++) {
      const agent = createAgent({
        url: server.url,
        token: BENCH_TOKENS.agent,
        id: `hostile-${i}`,
        capabilities: ['hostile'],
        kinds: ['hostile'],
        concurrency: 4,
        handler: async (task, ctx) => {
          runs.set(task.id, (runs.get(task.id) ?? 0) + 1)
          ctx.progress(0.5)
          ctx.log('info', `${task.name}: half way`)
          await sleep(20)
          return { ok: true }
        },
      })
      agent.connection.on('state', ({ to }) => {
        if (to === 'reconnecting') reconnects++
      })
      agents.push(agent)
    }
    await Promise.all(agents.map((agent) => agent.connected))
    const thief = io(`${server.url}/agents`, {
      auth: { token: BENCH_TOKENS.agent },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    })
    await new Promise<void>((resolve) => thief.once('connect', () => resolve()))
    const thiefAnswers = tally()
    const thieving = setInterval(() => {
      void thief
        .timeout(5000)
        .emitWithAck('agent:register', { id: 'hostile-0', name: 'thief', capabilities: ['hostile'] })
        .then(
          (answer) => thiefAnswers.add(answer.ok ? 'ok' : answer.error.code),
          () => thiefAnswers.add('no answer'),
        )
    }, 200)
    const limited = async () =>
      metric(await scrapeMetrics(server.url, BENCH_TOKENS.viewer), 'swarm_rate_limited_total{via="/agents"}')
    const limitedBefore = await limited()
    let submitted = 0
    let refusedSubmits = 0
    const submitting = setInterval(() => {
      for (let i = 0; i < SDK_TASKS_PER_S / 10; i++) {
        void fetch(`${server.url}/api/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKENS.operator}` },
          body: JSON.stringify({ name: `hostile #${submitted}`, kind: 'hostile', capabilities: ['hostile'] }),
        }).then(
          (response) => (response.status === 201 ? submitted++ : refusedSubmits++),
          () => refusedSubmits++,
        )
      }
    }, 100)
    return {
      note: () => `${submitted} tasks submitted, ${runs.size} run, ${reconnects} reconnects`,
      async end() {
        clearInterval(submitting)
        clearInterval(thieving)
        // Let the agents finish what is queued.
        const deadline = Date.now() + 30_000
        while (runs.size < submitted && Date.now() < deadline) await sleep(200)
        thief.disconnect()
        return {
          counters: {
            tasksSubmitted: submitted,
            submitsRefused: refusedSubmits,
            tasksRun: runs.size,
            tasksRunTwice: [...runs.values()].filter((count) => count > 1).length,
            agentMessagesRefused: (await limited()) - limitedBefore,
            agentReconnects: reconnects,
            ...prefixed('thief ', thiefAnswers.counts),
          },
        }
      },
      // Only after the viewers were compared: closing the agents changes the state under the comparison.
      cleanup: async () => {
        await Promise.all(agents.map((agent) => agent.close()))
      },
    }
  },
}
