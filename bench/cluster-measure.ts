/**
 * The cluster scenario's measurements, each on a set of "sites" (a node's
 * URL and the pool of client processes whose viewers are on it), so the same
 * code measures one single node and three cluster nodes: the event-rate
 * ladder, the immediate-event latency under a light load, and one failover.
 */
import { BENCH_TOKENS, type Distribution, type LoadReport, type LoadSpec } from './api'
import { sleep } from './child'
import type { ClientPool, ClientLoad } from './client-pool'
import { health, resyncs, type BenchCluster, type BenchNode } from './cluster-nodes'
import type { ServerHandle } from './harness'
import { mixedLoad } from './scenario'

export interface Site {
  name: string
  url: string
  pool: ClientPool
}

/** A light load: log lines, heartbeats, and 2 tasks a second whose terminal events leave at once. */
export function lightLoad(durationMs: number): LoadSpec {
  return { logsPerS: 5, heartbeatsPerS: 5, tasksPerS: 2, taskMs: 50, durationMs }
}

export interface Rung {
  offered: number
  /** Events numbered per second (the leader's seq over the load). */
  achieved: number
  viewers: number
  reached: number
  /** Snapshots sent after the first (the nodes' `swarm_client_resyncs_total`) and seen by the viewers. */
  resyncsMetric: number
  resyncsSeen: number
  deliveryP99Ms: number
  maxTickLateMs: number
  clientLimit: string | null
  ok: boolean
}

/**
 * Mixed load at rising rates into `leader` for `stepMs` each; a rung holds
 * when every viewer of every site reached the last seq within 10 s after the
 * load and none took a snapshot instead of events. Stops at the first that
 * fails, or at `budgetMs`.
 */
export async function ladder(
  leader: ServerHandle,
  sites: Site[],
  rates: number[],
  stepMs: number,
  budgetMs: number,
): Promise<Rung[]> {
  const rungs: Rung[] = []
  const started = Date.now()
  for (const offered of rates) {
    if (Date.now() - started > budgetMs) break
    await Promise.all(sites.map((site) => site.pool.reset()))
    const resyncsBefore = await sumResyncs(sites)
    const meters = await Promise.all(sites.map((site) => site.pool.meter()))
    const from = await leader.child.caller.call('seq', null)
    const load: LoadReport = await leader.child.caller.call('runLoad', mixedLoad(offered, stepMs), stepMs + 60_000)
    const to = await leader.child.caller.call('seq', null)
    const windows = await Promise.all(sites.map((site) => site.pool.window({ from, to, timeoutMs: 10_000 })))
    const clientLoads: ClientLoad[] = await Promise.all(meters.map((meter) => meter()))
    const resyncsMetric = (await sumResyncs(sites)) - resyncsBefore
    const viewers = sum(windows.map((w) => w.clients))
    const reached = sum(windows.map((w) => w.reached))
    const resyncsSeen = sum(windows.map((w) => w.resyncs))
    const delivery = windows.map((w) => w.delayHistogram.summary().p99)
    const rung: Rung = {
      offered,
      achieved: Math.round((to - from) / (load.durationMs / 1000)),
      viewers,
      reached,
      resyncsMetric,
      resyncsSeen,
      deliveryP99Ms: Math.max(...delivery),
      maxTickLateMs: Math.round(load.maxTickLateMs),
      clientLimit: clientLoads.map((l) => l.limit).find((limit) => limit !== null) ?? null,
      ok: reached === viewers && resyncsMetric === 0 && resyncsSeen === 0,
    }
    rungs.push(rung)
    console.log(
      `  ${offered} ev/s offered: ${rung.achieved} numbered/s, ${reached}/${viewers} reached, ` +
        `resyncs ${resyncsMetric}/${resyncsSeen}, delivery p99 ${rung.deliveryP99Ms.toFixed(0)} ms` +
        (rung.clientLimit ? ` (client limit: ${rung.clientLimit})` : ''),
    )
    if (!rung.ok) break
  }
  return rungs
}

async function sumResyncs(sites: Site[]): Promise<number> {
  return sum(await Promise.all(sites.map((site) => resyncs(site.url))))
}

/** Immediate (terminal task) events' delay at the viewers of each site, under the light load. */
export async function latency(
  leader: ServerHandle,
  sites: Site[],
  durationMs: number,
): Promise<{ site: string; disconnects: number; all: Distribution }[]> {
  await Promise.all(sites.map((site) => site.pool.reset()))
  await leader.child.caller.call('runLoad', lightLoad(durationMs), durationMs + 60_000)
  await sleep(500)
  return Promise.all(
    sites.map(async (site) => {
      const { disconnects, all } = await site.pool.immediate()
      return { site: site.name, disconnects, all }
    }),
  )
}

export interface Failover {
  killed: string
  newLeader: string | null
  /** kill → a survivor's `/healthz` says `leader`. */
  leaderMs: number | null
  /** kill → every viewer on the survivors took the new leader's snapshot and equals it (agents, tasks, seq). */
  convergedMs: number | null
  viewers: number
  /** The killed node's process started again and following, ms after the kill. */
  rejoinedMs: number | null
}

/**
 * One `kill -9` of the leader: a short load on it first (so its swarm holds
 * in-process agents and finished tasks the new leader's rebuilt swarm does
 * not), then the kill, the times to a new leader and to converged viewers on
 * the survivors, then the killed node started again as a follower and its
 * site's viewers connected again to it.
 */
export async function failover(
  cluster: BenchCluster,
  siteOf: (node: BenchNode) => Site,
  perNode: number,
): Promise<Failover> {
  const leader = await cluster.leader()
  if (!leader?.server) throw new Error('no leader to kill')
  await leader.server.child.caller.call(
    'runLoad',
    { logsPerS: 10, heartbeatsPerS: 5, tasksPerS: 5, taskMs: 0, durationMs: 1500 },
    60_000,
  )
  const survivors = cluster.nodes.filter((node) => node !== leader && node.server)
  await Promise.all(survivors.map((node) => siteOf(node).pool.reset()))
  const t0 = Date.now()
  await cluster.kill(leader)
  let newLeader: BenchNode | null = null
  let leaderMs: number | null = null
  while (newLeader === null && Date.now() - t0 < 30_000) {
    for (const node of survivors) {
      if ((await health(node.url))?.role === 'leader') newLeader = node
    }
    if (newLeader) leaderMs = Date.now() - t0
    else await sleep(25)
  }
  let convergedMs: number | null = null
  let viewers = 0
  while (newLeader && convergedMs === null && Date.now() - t0 < 60_000) {
    const pools = survivors.map((node) => siteOf(node).pool)
    // Every viewer took a snapshot since the kill (the new leader's, or its node's after the new term) …
    const seen = await Promise.all(pools.map((pool) => pool.window({ from: 0, to: 0, timeoutMs: 0 })))
    if (seen.every((w) => w.resyncs >= w.connected && w.connected > 0)) {
      // … and holds what the new leader holds.
      const reports = await Promise.all(
        pools.map((pool) =>
          pool.converge({ url: newLeader!.url, token: BENCH_TOKENS.viewer, timeoutMs: 1000, connectedOnly: true }),
        ),
      )
      viewers = sum(reports.map((r) => r.clients))
      if (reports.every((r) => r.reachedSeq === r.clients && r.stateEqual === r.clients)) convergedMs = Date.now() - t0
    }
    if (convergedMs === null) await sleep(50)
  }
  await cluster.boot(leader)
  const rejoined = await cluster.waitRole(leader, 'follower', 20_000)
  const rejoinedMs = rejoined ? Date.now() - t0 : null
  const site = siteOf(leader)
  await site.pool.disconnect()
  await site.pool.connect({ url: leader.url, token: BENCH_TOKENS.viewer, count: perNode, wave: 100, timeoutMs: 30_000 })
  return { killed: leader.id, newLeader: newLeader?.id ?? null, leaderMs, convergedMs, viewers, rejoinedMs }
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0)
}

export function quantiles(values: number[]): { min: number; p50: number; max: number } | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return { min: sorted[0]!, p50: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted.at(-1)! }
}
