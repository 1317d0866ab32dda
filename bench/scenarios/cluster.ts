/**
 * Cluster mode (issue 14) on this machine, in one run: a single node first
 * (its own PostgreSQL database, no Redis), then three built nodes on one
 * Redis and one PostgreSQL (a server this scenario starts, `fsync` on).
 *
 * 1. Viewers spread evenly over the three nodes, in steps up to 3,000: all
 *    connected, every one equal to its node's `GET /api/snapshot` after a
 *    light load; each node's RSS after a full GC at each step.
 * 2. The event-rate ladder (mixed load into the leader) at the first step's
 *    viewers, against the same viewers on the single node: the highest rate
 *    at which every viewer of every node reaches the last seq on events
 *    alone (no resync snapshot, by the nodes' metric and the viewers' count).
 * 3. Immediate-event latency at the viewers of the leader, of each follower
 *    and of the single node, under the same light load.
 * 4. Ten `kill -9`s of the leader, each killed node started again as a
 *    follower: kill → a new leader's `/healthz`, kill → the survivors'
 *    viewers converged on the new leader's swarm.
 * The load comes from the leader's in-process injector (injector.ts). One
 * client process per node (client-pool.ts says when it was the limit).
 */
import { startPostgres } from '../../tests/helpers/postgres'
import { startRedis } from '../../tests/helpers/redis'
import { BENCH_TOKENS, type ProcessSample } from '../api'
import { sleep } from '../child'
import { ClientPool } from '../client-pool'
import { failover, ladder, latency, lightLoad, sum, type Failover, type Site } from '../cluster-measure'
import { BenchCluster, redisFigures } from '../cluster-nodes'
import { NO_DEMO, startServer } from '../harness'
import type { Scenario, ScenarioOutcome } from '../scenario'
import { mb, outcome, type Step } from '../cluster-report'

const STEPS = [300, 1500, 3000]
const RATES = [1000, 2000, 4000, 8000, 12_000, 16_000]
const STEP_MS = 5000
const LATENCY_MS = 15_000
const KILLS = 10
const FAILOVER_PER_NODE = 100
const FAILOVER_BUDGET_MS = 240_000

export const cluster: Scenario = {
  name: 'cluster',
  summary: 'three nodes on Redis + PostgreSQL: viewers to 3,000, events/s and latency against one node, 10 failovers',
  optIn: true,
  async run(settings): Promise<ScenarioOutcome> {
    const steps = settings.quick ? [150, 600] : STEPS
    const kills = settings.quick ? 3 : KILLS
    const pg = await startPostgres({ fsync: true })
    const redis = await startRedis()
    const pools: ClientPool[] = []
    let nodes: BenchCluster | null = null
    try {
      // The single node, with the first step's viewers in three client processes.
      const single = await startServer({ ...NO_DEMO, built: true, database: (await pg.createDatabase()).url })
      const singlePool = new ClientPool(3)
      pools.push(singlePool)
      const singleSite: Site = { name: 'single node', url: single.url, pool: singlePool }
      await singlePool.connect({
        url: single.url,
        token: BENCH_TOKENS.viewer,
        count: steps[0]!,
        wave: 100,
        timeoutMs: 30_000,
        encoding: 'deflate-raw',
      })
      console.log(`  single node: ${steps[0]} viewers; latency, then the ladder`)
      const singleLatency = await latency(single, [singleSite], LATENCY_MS)
      const singleLadder = await ladder(single, [singleSite], RATES, STEP_MS, 100_000)
      await singlePool.stop()
      await single.child.stop('stop')

      // The cluster.
      nodes = new BenchCluster((await pg.createDatabase()).url, redis.url, [])
      await nodes.start(3)
      const leaderServer = nodes.nodes[0]!.server!
      const sites: Site[] = nodes.nodes.map((node) => {
        const pool = new ClientPool(1)
        pools.push(pool)
        return { name: node.id, url: node.url, pool }
      })
      await sleep(1000)
      const idleRss = await rssOf(nodes)
      const rows: Step[] = []
      let clusterLatency: Awaited<ReturnType<typeof latency>> = []
      let clusterLadder: Awaited<ReturnType<typeof ladder>> = []
      let connectedPerNode = 0
      let connectedTotal = 0
      for (const count of steps) {
        const perNode = Math.floor(count / 3)
        const add = perNode - connectedPerNode
        connectedPerNode = perNode
        const connects = await Promise.all(
          sites.map((site) =>
            site.pool.connect({
              url: site.url,
              token: BENCH_TOKENS.viewer,
              count: add,
              wave: 130,
              timeoutMs: 60_000,
              encoding: 'deflate-raw',
            }),
          ),
        )
        const meters = await Promise.all(sites.map((site) => site.pool.meter()))
        await leaderServer.child.caller.call('runLoad', lightLoad(5000), 65_000)
        const limits = await Promise.all(meters.map((meter) => meter()))
        const leaderSeq = await leaderServer.child.caller.call('seq', null)
        const converge = await Promise.all(
          sites.map(async (site) => ({
            node: site.name,
            ...(await site.pool.converge({ url: site.url, token: BENCH_TOKENS.viewer, timeoutMs: 30_000 })),
          })),
        )
        const row: Step = {
          viewers: count,
          connected: (connectedTotal += sum(connects.map((c) => c.connected))),
          failed: sum(connects.map((c) => c.failed)),
          connectMs: Math.max(...connects.map((c) => c.ms)),
          converge,
          leaderSeq,
          rssMb: (await rssOf(nodes)).map((s) => s.rssMb),
          clientLimit: limits.map((l) => l.limit).find((limit) => limit !== null) ?? null,
        }
        rows.push(row)
        console.log(
          `  ${count} viewers: ${row.connected} connected (${connects.flatMap((c) => c.errors).join('; ')}), ` +
            `${sum(converge.map((c) => c.stateEqual))} equal to their node; RSS ${row.rssMb.map(mb).join(' / ')} MB`,
        )
        if (count === steps[0]) {
          clusterLatency = await latency(leaderServer, sites, LATENCY_MS)
          clusterLadder = await ladder(leaderServer, sites, RATES, STEP_MS, 100_000)
        }
      }
      const redisAfter = await redisFigures(redis.port)

      // Failover: fewer viewers, so that each round stays short.
      await Promise.all(sites.map((site) => site.pool.disconnect()))
      await Promise.all(
        sites.map((site) =>
          site.pool.connect({
            url: site.url,
            token: BENCH_TOKENS.viewer,
            count: FAILOVER_PER_NODE,
            wave: 100,
            timeoutMs: 30_000,
          }),
        ),
      )
      const rounds: Failover[] = []
      const failoverStarted = Date.now()
      const siteOf = (node: { id: string }) => sites.find((site) => site.name === node.id)!
      for (let k = 0; k < kills && Date.now() - failoverStarted < FAILOVER_BUDGET_MS; k++) {
        const round = await failover(nodes, siteOf, FAILOVER_PER_NODE)
        rounds.push(round)
        console.log(
          `  kill ${k + 1}: ${round.killed} → ${round.newLeader}: leader after ${round.leaderMs} ms, ` +
            `${round.viewers} viewers converged after ${round.convergedMs} ms, rejoined after ${round.rejoinedMs} ms`,
        )
      }
      return outcome(settings.quick, {
        failoverPerNode: FAILOVER_PER_NODE,
        steps: rows,
        idleRssMb: idleRss.map((s) => s.rssMb),
        singleLatency,
        clusterLatency,
        singleLadder,
        clusterLadder,
        redis: redisAfter,
        rounds,
      })
    } finally {
      await Promise.all(pools.map((pool) => pool.stop()))
      await nodes?.stop()
      await redis.destroy()
      pg.destroy()
    }
  },
}

async function rssOf(nodes: BenchCluster): Promise<ProcessSample[]> {
  return Promise.all(nodes.nodes.map((node) => node.server!.child.caller.call('sample', { gc: true })))
}
