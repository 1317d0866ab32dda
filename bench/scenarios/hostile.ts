/**
 * Hostile: sustained abuse, two minutes per case (20 s with --quick), the
 * server's resident memory and event-loop delay sampled every 2 s, and
 * `/healthz` probed every 100 ms from outside.
 *
 * - stalled viewers: 500 viewers that join with a valid token and stop
 *   reading, kept at 500 (each one the server drops is replaced), beside 10
 *   healthy viewers, under the mixed load at 1,000 events/s with 2 KB log
 *   lines; then all 500 leave at once.
 * - expensive asks: the replay buffer full of 16 KiB log lines; 10 viewers
 *   send `sync { sinceSeq: 1 }` and 10 others widen and narrow their
 *   subscription, each at 45 a second (just under the message limit),
 *   reconnecting whenever they are cut off.
 * - connection abuse: 300 slow request bodies (a byte a second, replaced when
 *   closed) and 100 Engine.IO sessions a second that join no namespace or
 *   the default one, beside 10 healthy viewers and 500 events/s.
 * - agents under load: 10 SDK agents running 100 tasks a second (a progress
 *   report and a log line each) while 1,800 error lines a second go out to
 *   100 viewers; an eleventh connection tries to take a live agent's id five
 *   times a second.
 *
 * Verdict per case: memory bounded (the second half's peak RSS at most 15 %
 * over the first half's), `/healthz` never left unanswered 5 s, and the
 * healthy viewers converge; for the agents, no message refused, no
 * reconnect, no task run twice, the thief never registered.
 */
import { io, type Socket } from 'socket.io-client'
import { BENCH_TOKENS, type ProcessSample } from '../api'
import { sleep } from '../child'
import { NO_DEMO, withProcesses, type ServerHandle } from '../harness'
import { createAgent, type SwarmAgent } from '../../src/sdk/agent'
import { Prober, RawSessions, SlowBodies, StalledViewers, type ProbeReport } from '../hostile'
import { mixedLoad, type Scenario, type ScenarioOutcome, type Verdict } from '../scenario'
import { metric, scrapeMetrics } from '../scrape'
import { table } from '../table'

const STALLED = 500
const HEALTHY = 10
const ASKERS = 10
/** Requests per second each asker sends: just under the per-connection limit. */
const ASK_RATE = 45
const SAMPLE_EVERY_MS = 2000
/** Slow request bodies kept open, and Engine.IO handshakes a second that join no namespace. */
const SLOW_BODIES = 300
const RAW_SESSIONS_PER_S = 100
/** SDK agents, and tasks a second for them all. */
const SDK_AGENTS = 10
const SDK_TASKS_PER_S = 100

interface Timeline {
  at: number
  /** Viewers connected, held back, and disconnected for their backlog so far (the server's /metrics). */
  connected: number
  held: number
  dropped: number
  rssMb: number
  heapUsedMb: number
  loopDelayMaxMs: number
  healthzMaxMs: number
  healthzTimeouts: number
  note: string
}

interface CaseResult {
  name: string
  baselineRssMb: number
  timeline: Timeline[]
  afterMb: number
  leaving: ProbeReport | null
  counters: Record<string, number>
  converged: string
}

/** Samples the server and the prober every 2 s while `running()` holds. */
async function watch(server: ServerHandle, prober: Prober, running: () => boolean, note: () => string) {
  const timeline: Timeline[] = []
  while (running()) {
    await sleep(SAMPLE_EVERY_MS)
    const sample: ProcessSample = await server.child.caller.call('sample', { gc: false })
    const probe = await prober.report()
    const values = await scrapeMetrics(server.url, BENCH_TOKENS.viewer)
    const dropped = ['stalled', 'overdue', 'memory']
      .map((reason) => metric(values, `swarm_viewers_dropped_total{reason="${reason}"}`))
      .reduce((a, b) => a + b, 0)
    timeline.push({
      connected: metric(values, 'swarm_clients_connected'),
      held: metric(values, 'swarm_clients_lagging'),
      dropped,
      at: sample.at,
      rssMb: Math.round(sample.rssMb),
      heapUsedMb: Math.round(sample.heapUsedMb),
      loopDelayMaxMs: Math.round(sample.loopDelayMaxMs),
      healthzMaxMs: probe.maxMs,
      healthzTimeouts: probe.timeouts,
      note: note(),
    })
  }
  return timeline
}

async function counters(server: ServerHandle): Promise<Record<string, number>> {
  const values = await scrapeMetrics(server.url, BENCH_TOKENS.viewer)
  const names = [
    'swarm_viewers_dropped_total{reason="stalled"}',
    'swarm_viewers_dropped_total{reason="overdue"}',
    'swarm_viewers_dropped_total{reason="memory"}',
    'swarm_client_resyncs_total',
    'swarm_viewers_refused_total{cap="total"}',
    'swarm_viewers_refused_total{cap="perToken"}',
  ]
  return Object.fromEntries(names.map((name) => [name, metric(values, name)]))
}

async function stalledViewers(durationMs: number): Promise<CaseResult> {
  return withProcesses(NO_DEMO, async (server, clients) => {
    const connect = await clients.caller.call(
      'connect',
      { url: server.url, token: BENCH_TOKENS.viewer, count: HEALTHY, wave: HEALTHY, timeoutMs: 20_000 },
      60_000,
    )
    if (connect.failed > 0) throw new Error(`${connect.failed} healthy viewers failed to connect`)
    await sleep(2000)
    const baseline = await server.child.caller.call('sample', { gc: true })
    const prober = new Prober(server.url)
    prober.start()
    const stalled = new StalledViewers(server.url, BENCH_TOKENS.viewer, STALLED)
    stalled.start()
    const load = server.child.caller.call(
      'runLoad',
      { ...mixedLoad(1000, durationMs), logBytes: 2048 },
      durationMs + 60_000,
    )
    let loading = true
    void load.finally(() => (loading = false)).catch(() => {})
    const timeline = await watch(
      server,
      prober,
      () => loading,
      () => `${stalled.count} stalled open, ${stalled.opened} opened, ${stalled.ended} ended`,
    )
    await load
    // All 500 leave at once; the prober says whether the server noticed it.
    await prober.report()
    stalled.closeAll()
    await sleep(10_000)
    const leaving = await prober.report()
    await prober.stop()
    const converge = await clients.caller.call(
      'converge',
      { url: server.url, token: BENCH_TOKENS.viewer, timeoutMs: 20_000 },
      60_000,
    )
    const after = await server.child.caller.call('sample', { gc: true })
    return {
      name: 'stalled viewers',
      baselineRssMb: Math.round(baseline.rssMb),
      timeline,
      afterMb: Math.round(after.rssMb),
      leaving,
      counters: { ...(await counters(server)), stalledOpened: stalled.opened, stalledEnded: stalled.ended },
      converged: `${converge.reachedSeq}/${converge.clients} healthy viewers reached seq ${converge.seq}, ${converge.stateEqual} equal`,
    }
  })
}

async function expensiveAsks(durationMs: number, fillMs: number): Promise<CaseResult> {
  return withProcesses(NO_DEMO, async (server, clients) => {
    const connect = await clients.caller.call(
      'connect',
      { url: server.url, token: BENCH_TOKENS.viewer, count: HEALTHY, wave: HEALTHY, timeoutMs: 20_000 },
      60_000,
    )
    if (connect.failed > 0) throw new Error(`${connect.failed} healthy viewers failed to connect`)
    // The replay buffer full of 16 KiB lines (its 64 MiB bound keeps about 4,000 of them).
    await server.child.caller.call(
      'runLoad',
      { logsPerS: 400, logBytes: 16_384, heartbeatsPerS: 0, tasksPerS: 0, taskMs: 0, durationMs: fillMs },
      fillMs + 60_000,
    )
    const baseline = await server.child.caller.call('sample', { gc: true })
    const prober = new Prober(server.url)
    prober.start()
    const answers: Record<string, number> = {}
    const count = (answer: { ok: boolean; error?: { code: string } }) => {
      const key = answer.ok ? 'ok' : (answer.error?.code ?? 'error')
      answers[key] = (answers[key] ?? 0) + 1
    }
    let asking = true
    let reconnects = 0
    // Each asker paces itself just under the per-connection limit (50 messages/s), as a careful attacker would,
    // and comes back whenever the server disconnects it.
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
            const answer = syncing
              ? await socket.timeout(10_000).emitWithAck('sync', { sinceSeq: 1 })
              : await socket
                  .timeout(10_000)
                  .emitWithAck('subscribe', { channels: n % 2 ? ['agents'] : ['agents', 'tasks', 'logs'] })
            count(answer as { ok: boolean; error?: { code: string } })
          } catch {
            count({ ok: false, error: { code: 'no answer' } })
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
    const load = server.child.caller.call(
      'runLoad',
      { logsPerS: 100, logBytes: 16_384, heartbeatsPerS: 100, tasksPerS: 5, taskMs: 200, durationMs },
      durationMs + 60_000,
    )
    let loading = true
    void load.finally(() => (loading = false)).catch(() => {})
    const timeline = await watch(
      server,
      prober,
      () => loading,
      () =>
        Object.entries(answers)
          .map(([code, n]) => `${code} ${n}`)
          .join(', '),
    )
    await load
    asking = false
    await Promise.all(loops)
    await prober.stop()
    const converge = await clients.caller.call(
      'converge',
      { url: server.url, token: BENCH_TOKENS.viewer, timeoutMs: 20_000 },
      60_000,
    )
    const after = await server.child.caller.call('sample', { gc: true })
    return {
      name: 'expensive asks',
      baselineRssMb: Math.round(baseline.rssMb),
      timeline,
      afterMb: Math.round(after.rssMb),
      leaving: null,
      counters: { ...(await counters(server)), ...prefixed('answers ', answers), askerReconnects: reconnects },
      converged: `${converge.reachedSeq}/${converge.clients} healthy viewers reached seq ${converge.seq}, ${converge.stateEqual} equal`,
    }
  })
}

/** Raw sessions, the default namespace and slow request bodies, beside 10 healthy viewers and a light load. */
async function connectionAbuse(durationMs: number): Promise<CaseResult> {
  return withProcesses(NO_DEMO, async (server, clients) => {
    const connect = await clients.caller.call(
      'connect',
      { url: server.url, token: BENCH_TOKENS.viewer, count: HEALTHY, wave: HEALTHY, timeoutMs: 20_000 },
      60_000,
    )
    if (connect.failed > 0) throw new Error(`${connect.failed} healthy viewers failed to connect`)
    await sleep(2000)
    const baseline = await server.child.caller.call('sample', { gc: true })
    const prober = new Prober(server.url)
    prober.start()
    const slow = new SlowBodies(server.url, SLOW_BODIES)
    slow.start()
    const raw = new RawSessions(server.url, RAW_SESSIONS_PER_S)
    raw.start()
    const load = server.child.caller.call('runLoad', mixedLoad(500, durationMs), durationMs + 60_000)
    let loading = true
    void load.finally(() => (loading = false)).catch(() => {})
    const timeline = await watch(
      server,
      prober,
      () => loading,
      () => `slow bodies ${slow.count} open, ${slow.closed} closed; raw: ${summary(raw.answers)}`,
    )
    await load
    slow.stop()
    raw.stop()
    await prober.stop()
    const converge = await clients.caller.call(
      'converge',
      { url: server.url, token: BENCH_TOKENS.viewer, timeoutMs: 20_000 },
      60_000,
    )
    const values = await scrapeMetrics(server.url, BENCH_TOKENS.viewer)
    const after = await server.child.caller.call('sample', { gc: true })
    return {
      name: 'connection abuse',
      baselineRssMb: Math.round(baseline.rssMb),
      timeline,
      afterMb: Math.round(after.rssMb),
      leaving: null,
      counters: {
        slowBodiesOpened: slow.opened,
        slowBodiesClosedByServer: slow.closed,
        slowBodiesAnswered: slow.answered,
        ...prefixed('raw ', raw.answers),
        handshakesRefused: metric(values, 'swarm_rate_limited_total{via="handshake"}'),
      },
      converged: `${converge.reachedSeq}/${converge.clients} healthy viewers reached seq ${converge.seq}, ${converge.stateEqual} equal`,
    }
  })
}

/**
 * Well-behaved SDK agents at the SDK's pace (each task: a progress report, a
 * log line, its result) while the server is saturated by error log lines
 * fanned out to 100 viewers; and an agent that tries, five times a second, to
 * register the id of a live one.
 */
async function agentsUnderLoad(durationMs: number): Promise<CaseResult> {
  return withProcesses(NO_DEMO, async (server, clients) => {
    const connect = await clients.caller.call(
      'connect',
      { url: server.url, token: BENCH_TOKENS.viewer, count: 100, wave: 100, timeoutMs: 20_000 },
      60_000,
    )
    if (connect.failed > 0) throw new Error(`${connect.failed} viewers failed to connect`)
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
    const thiefAnswers: Record<string, number> = {}
    const thieving = setInterval(() => {
      void thief
        .timeout(5000)
        .emitWithAck('agent:register', { id: 'hostile-0', name: 'thief', capabilities: ['hostile'] })
        .then(
          (answer) => {
            const key = answer.ok ? 'ok' : answer.error.code
            thiefAnswers[key] = (thiefAnswers[key] ?? 0) + 1
          },
          () => (thiefAnswers['no answer'] = (thiefAnswers['no answer'] ?? 0) + 1),
        )
    }, 200)
    const limitedBefore = metric(
      await scrapeMetrics(server.url, BENCH_TOKENS.viewer),
      'swarm_rate_limited_total{via="/agents"}',
    )
    const baseline = await server.child.caller.call('sample', { gc: true })
    const prober = new Prober(server.url)
    prober.start()
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
    const load = server.child.caller.call(
      'runLoad',
      { logsPerS: 1800, logLevel: 'error', heartbeatsPerS: 0, tasksPerS: 0, taskMs: 0, durationMs },
      durationMs + 60_000,
    )
    let loading = true
    void load.finally(() => (loading = false)).catch(() => {})
    const timeline = await watch(
      server,
      prober,
      () => loading,
      () => `${submitted} tasks submitted, ${[...runs.keys()].length} run, ${reconnects} reconnects`,
    )
    await load
    clearInterval(submitting)
    clearInterval(thieving)
    // Let the agents finish what is queued.
    const deadline = Date.now() + 30_000
    while (runs.size < submitted && Date.now() < deadline) await sleep(200)
    await prober.stop()
    const limited =
      metric(await scrapeMetrics(server.url, BENCH_TOKENS.viewer), 'swarm_rate_limited_total{via="/agents"}') -
      limitedBefore
    thief.disconnect()
    // While the agents are still connected: closing them changes the state under the comparison.
    const converge = await clients.caller.call(
      'converge',
      { url: server.url, token: BENCH_TOKENS.viewer, timeoutMs: 20_000 },
      60_000,
    )
    await Promise.all(agents.map((agent) => agent.close()))
    const after = await server.child.caller.call('sample', { gc: true })
    return {
      name: 'agents under load',
      baselineRssMb: Math.round(baseline.rssMb),
      timeline,
      afterMb: Math.round(after.rssMb),
      leaving: null,
      counters: {
        tasksSubmitted: submitted,
        submitsRefused: refusedSubmits,
        tasksRun: runs.size,
        tasksRunTwice: [...runs.values()].filter((count) => count > 1).length,
        agentMessagesRefused: limited,
        agentReconnects: reconnects,
        ...prefixed('thief ', thiefAnswers),
      },
      converged: `${converge.reachedSeq}/${converge.clients} viewers reached seq ${converge.seq}, ${converge.stateEqual} equal`,
    }
  })
}

const summary = (answers: Record<string, number>) =>
  Object.entries(answers)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ')

const prefixedOnly = (values: Record<string, number>, prefix: string) =>
  Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith(prefix)))

const prefixed = (prefix: string, values: Record<string, number>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [prefix + key, value]))

function judge(result: CaseResult, full: boolean): Verdict[] {
  const half = Math.floor(result.timeline.length / 2)
  const peak = (rows: Timeline[]) => Math.max(0, ...rows.map((row) => row.rssMb))
  const first = peak(result.timeline.slice(0, half))
  const second = peak(result.timeline.slice(half))
  const timeouts = result.timeline.reduce((sum, row) => sum + row.healthzTimeouts, 0)
  const worst = Math.max(0, ...result.timeline.map((row) => row.healthzMaxMs))
  const [reached, clients] = result.converged.split(' ')[0]!.split('/').map(Number)
  const agents: Verdict[] =
    result.counters.tasksRun === undefined
      ? []
      : [
          {
            target: `hostile, ${result.name}: well-behaved agents never refused or cut off, no task run twice`,
            measured: `${result.counters.agentMessagesRefused} messages refused, ${result.counters.agentReconnects} reconnects, ${result.counters.tasksRunTwice} of ${result.counters.tasksRun} tasks run twice; the id thief: ${summary(prefixedOnly(result.counters, 'thief '))}`,
            met: full
              ? result.counters.agentMessagesRefused === 0 &&
                result.counters.agentReconnects === 0 &&
                result.counters.tasksRunTwice === 0 &&
                result.counters['thief ok'] === undefined
              : null,
          },
        ]
  return [
    ...agents,
    {
      target: `hostile, ${result.name}: RSS bounded over 2 min of abuse`,
      measured: `baseline ${result.baselineRssMb} MB, peak ${first} MB (first half) / ${second} MB (second half), ${result.afterMb} MB after`,
      met: full ? second <= first * 1.15 : null,
    },
    {
      target: `hostile, ${result.name}: /healthz answered throughout, the healthy viewers converge`,
      measured: `${timeouts} probes unanswered in 5 s, slowest ${worst} ms; ${result.converged}`,
      met: full ? timeouts === 0 && reached === clients : null,
    },
  ]
}

function render(result: CaseResult): string {
  const start = result.timeline[0]?.at ?? 0
  return (
    table(
      `Hostile: ${result.name} (server RSS ${result.baselineRssMb} MB before)`,
      [
        't s',
        'viewers',
        'held back',
        'dropped',
        'RSS MB',
        'heap MB',
        'loop delay max ms',
        '/healthz max ms',
        'unanswered',
        'clients',
      ],
      result.timeline.map((row) => [
        Math.round((row.at - start) / 1000) + 2,
        row.connected,
        row.held,
        row.dropped,
        row.rssMb,
        row.heapUsedMb,
        row.loopDelayMaxMs,
        row.healthzMaxMs,
        row.healthzTimeouts,
        row.note,
      ]),
    ) +
    (result.leaving
      ? `\nall left at once: /healthz over the next 10 s p50 ${result.leaving.p50Ms} ms, max ${result.leaving.maxMs} ms, ${result.leaving.timeouts} unanswered`
      : '') +
    `\nafter (GC): ${result.afterMb} MB; ${result.converged}\n` +
    Object.entries(result.counters)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ')
  )
}

export const hostile: Scenario = {
  name: 'hostile',
  summary:
    '2 min each: 500 viewers that stop reading; 20 asking for replays and snapshots nonstop; slow bodies and raw sessions; agents under a saturated server',
  async run(settings): Promise<ScenarioOutcome> {
    const durationMs = settings.quick ? 20_000 : 120_000
    const cases = [
      await stalledViewers(durationMs),
      await expensiveAsks(durationMs, settings.quick ? 5000 : 15_000),
      await connectionAbuse(durationMs),
      await agentsUnderLoad(durationMs),
    ]
    return {
      result: cases,
      report: cases.map(render).join('\n\n'),
      verdicts: cases.flatMap((result) => judge(result, !settings.quick)),
    }
  },
}
