/** The cluster scenario's tables and verdicts (scenarios/cluster.ts measures). */
import type { ConvergeReport } from './api'
import type { Failover, ladder, latency } from './cluster-measure'
import { quantiles, sum } from './cluster-measure'
import type { redisFigures } from './cluster-nodes'
import type { ScenarioOutcome } from './scenario'
import { table } from './table'

/** A second figure of the ladder: rungs whose events reached the viewers within this (p99). */
const PROMPT_MS = 1000

export interface Step {
  viewers: number
  connected: number
  failed: number
  connectMs: number
  converge: (ConvergeReport & { node: string })[]
  leaderSeq: number
  rssMb: number[]
  clientLimit: string | null
}

export function mb(value: number): string {
  return value.toFixed(0)
}

type Measured = {
  failoverPerNode: number
  steps: Step[]
  idleRssMb: number[]
  singleLatency: Awaited<ReturnType<typeof latency>>
  clusterLatency: Awaited<ReturnType<typeof latency>>
  singleLadder: Awaited<ReturnType<typeof ladder>>
  clusterLadder: Awaited<ReturnType<typeof ladder>>
  redis: Awaited<ReturnType<typeof redisFigures>>
  rounds: Failover[]
}

export function outcome(quick: boolean, m: Measured): ScenarioOutcome {
  const top = (rungs: Measured['singleLadder']) => rungs.filter((r) => r.ok).at(-1)?.achieved ?? 0
  const ratio = top(m.singleLadder) > 0 ? top(m.clusterLadder) / top(m.singleLadder) : 0
  // The same, up to the first rung whose events did not reach the viewers within a second (p99; 10 s is the histogram's top).
  const prompt = (rungs: Measured['singleLadder']) => {
    const late = rungs.findIndex((r) => r.deliveryP99Ms > PROMPT_MS)
    return top(late < 0 ? rungs : rungs.slice(0, late))
  }
  const leaderTimes = quantiles(m.rounds.flatMap((r) => (r.leaderMs === null ? [] : [r.leaderMs])))
  const convergeTimes = quantiles(m.rounds.flatMap((r) => (r.convergedMs === null ? [] : [r.convergedMs])))
  const last = m.steps.at(-1)
  const allConverged = m.steps.every(
    (s) => s.connected === s.viewers - (s.viewers % 3) && s.converge.every((c) => c.stateEqual === c.clients),
  )
  const ladderRows = (name: string, rungs: Measured['singleLadder']) =>
    rungs.map((r) => [
      name,
      r.offered,
      r.achieved,
      `${r.reached}/${r.viewers}`,
      `${r.resyncsMetric}/${r.resyncsSeen}`,
      r.deliveryP99Ms.toFixed(0),
      r.maxTickLateMs,
      r.ok ? 'yes' : 'no',
      r.clientLimit ?? '',
    ])
  const report =
    table(
      'viewers spread over three nodes (deflate-raw); RSS after a full GC',
      [
        'viewers',
        'connected',
        'connect s',
        'equal to their node',
        'node seqs / leader',
        'RSS n1 / n2 / n3 MB',
        'client limit',
      ],
      [
        ['0', 0, '', '', '', m.idleRssMb.map(mb).join(' / '), ''],
        ...m.steps.map((s) => [
          s.viewers,
          s.connected,
          (s.connectMs / 1000).toFixed(1),
          `${sum(s.converge.map((c) => c.stateEqual))}/${sum(s.converge.map((c) => c.clients))}`,
          `${s.converge.map((c) => c.seq).join(' / ')} / ${s.leaderSeq}`,
          s.rssMb.map(mb).join(' / '),
          s.clientLimit ?? '',
        ]),
      ],
    ) +
    '\n' +
    table(
      `events/s into the leader, ${m.steps[0]?.viewers} viewers, every viewer on events alone`,
      [
        'where',
        'offered/s',
        'numbered/s',
        'reached',
        'resyncs metric/seen',
        'delivery p99 ms',
        'tick late ms',
        'held',
        'client limit',
      ],
      [...ladderRows('single node', m.singleLadder), ...ladderRows('cluster', m.clusterLadder)],
    ) +
    `\nhighest rate held: single ${top(m.singleLadder)}/s, cluster ${top(m.clusterLadder)}/s (ratio ${ratio.toFixed(2)}); ` +
    `with delivery p99 ≤ ${PROMPT_MS} ms too: single ${prompt(m.singleLadder)}/s, cluster ${prompt(m.clusterLadder)}/s\n` +
    table(
      'immediate events (terminal task events), light load: delay at the viewers',
      ['viewers on', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'disconnects'],
      [...m.singleLatency, ...m.clusterLatency].map((l, i) => [
        i === 0 ? 'single node' : i === 1 ? `${l.site} (leader)` : `${l.site} (follower)`,
        l.all.count,
        l.all.p50.toFixed(1),
        l.all.p99.toFixed(1),
        l.all.max.toFixed(1),
        l.disconnects,
      ]),
    ) +
    '\n' +
    table(
      `kill -9 of the leader, ${m.rounds.length} times (${m.failoverPerNode} viewers a node)`,
      ['kill', 'killed → new', 'new leader ms', 'survivors converged ms', 'viewers', 'rejoined ms'],
      m.rounds.map((r, i) => [
        i + 1,
        `${r.killed} → ${r.newLeader}`,
        r.leaderMs ?? 'none',
        r.convergedMs ?? 'none',
        r.viewers,
        r.rejoinedMs ?? 'no',
      ]),
    ) +
    `\nnew leader ms min/p50/max ${fmt(leaderTimes)}; converged ms ${fmt(convergeTimes)}` +
    (m.redis
      ? `\nRedis after the ladder: ${m.redis.usedMemoryMb.toFixed(1)} MB used, swarm:events ${m.redis.streamLength} entries, ${m.redis.streamMb.toFixed(1)} MB`
      : '')
  return {
    result: m,
    report,
    verdicts: [
      {
        target: `${last?.viewers ?? 0} viewers over three nodes, all connected and converged`,
        measured: `${last?.connected ?? 0} connected, ${sum(last?.converge.map((c) => c.stateEqual) ?? [])} equal`,
        met: quick ? null : allConverged,
      },
      {
        target: 'a new leader within 10 s of a kill -9 (issue 14)',
        measured: `max ${leaderTimes?.max ?? 'none'} ms over ${m.rounds.length} kills`,
        met: quick
          ? null
          : leaderTimes !== null && leaderTimes.max <= 10_000 && m.rounds.every((r) => r.leaderMs !== null),
      },
    ],
  }
}

function fmt(q: ReturnType<typeof quantiles>): string {
  return q ? `${q.min} / ${q.p50} / ${q.max}` : 'none'
}
