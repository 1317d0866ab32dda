/**
 * `npm run cluster:demo`: a three-node cluster on this machine, behind nginx.
 * Starts Debian's redis-server and PostgreSQL (initdb + pg_ctl, as the
 * `postgres` user when run as root) in temporary dirs on free loopback ports,
 * three nodes of the built CLI on them (all with `--demo`: only the leader runs
 * it, so after a failover the next leader takes it up), and nginx with
 * deploy/cluster/nginx.conf's upstream and location in front, on 127.0.0.1;
 * prints the links. Ctrl-C (or SIGTERM) stops everything and removes the
 * temporary dirs. Missing programs: one line naming the apt-get command.
 *
 *   npm run cluster:demo                 # nginx on http://127.0.0.1:7420
 *   npm run cluster:demo -- --port 8080  # another port (0: any free one)
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agreedLeader, startNodes, stopNodes, type ClusterNode } from '../tests/helpers/cluster-nodes'
import { clusterNginxDemoSite } from '../tests/helpers/cluster-proxy'
import { findNginx, listening, startNginx, type RunningNginx } from '../tests/helpers/nginx'
import { freePort } from '../tests/helpers/ports'
import { findPostgresBin, startPostgres, type Postgres } from '../tests/helpers/postgres'
import { findRedisServer, startRedis, type Redis } from '../tests/helpers/redis'
import { missingMessage, missingPackages, parsePort } from './cluster-demo/args'

const NODE_IDS = ['node-1', 'node-2', 'node-3']

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help')) {
    process.stdout.write('npm run cluster:demo [-- --port N]   (default 7420; 0: any free port)\n')
    return
  }
  const missing = missingPackages({
    'redis-server': findRedisServer,
    postgresql: findPostgresBin,
    'nginx-light': findNginx,
  })
  if (missing.length > 0) {
    process.stderr.write(`${missingMessage(missing)}\n`)
    process.exit(1)
  }
  let port: number
  try {
    port = parsePort(argv) || (await freePort())
  } catch (error) {
    process.stderr.write(`cluster:demo: ${(error as Error).message}\n`)
    process.exit(2)
  }
  // Before anything starts; and startNginx waits for the port to answer, so something else on it would pass for nginx.
  if (await listening(port)) {
    process.stderr.write(`cluster:demo: port ${port} is in use on 127.0.0.1: pick another with --port\n`)
    process.exit(1)
  }
  const dir = mkdtempSync(join(tmpdir(), 'sm-cluster-demo-'))
  let redis: Redis | null = null
  let pg: Postgres | null = null
  let nodes: ClusterNode[] = []
  let nginx: RunningNginx<{ http: number }> | null = null
  let stopping: Promise<void> | null = null
  // Each part stops even when another fails to (a server already gone, say, after Ctrl-C reached it too).
  const stop = () =>
    (stopping ??= (async () => {
      const quietly = async (part: () => unknown) => {
        try {
          await part()
        } catch (error) {
          process.stderr.write(`cluster:demo: while stopping: ${String(error)}\n`)
        }
      }
      await quietly(() => nginx?.stop())
      await quietly(() => stopNodes(nodes))
      await quietly(() => redis?.destroy())
      await quietly(() => pg?.destroy())
      rmSync(dir, { recursive: true, force: true })
    })())
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stdout.write('\nStopping the cluster demo…\n')
      void stop().then(() => process.exit(0))
    })
  }
  try {
    redis = await startRedis()
    pg = await startPostgres()
    const { url: database } = await pg.createDatabase()
    // The same tokens on every node: a viewer's or an agent's token is the cluster's.
    const tokens = { operator: token(), viewer: token(), agent: token() }
    nodes = await startNodes({
      ids: NODE_IDS,
      redis: redis.url,
      database,
      dir,
      args: ['--demo', '--local-agents', '0', '--log-level', 'warn'],
      env: {
        SWARM_MONITOR_OPERATOR_TOKEN: tokens.operator,
        SWARM_MONITOR_VIEWER_TOKEN: tokens.viewer,
        SWARM_MONITOR_AGENT_TOKEN: tokens.agent,
      },
    })
    const leader = await agreedLeader(nodes, tokens.viewer)
    const nodePorts = nodes.map((node) => node.port)
    nginx = await startNginx(clusterNginxDemoSite(nodePorts, port), { http: port })
    const url = `http://127.0.0.1:${port}`
    await throughNginx(url, nodes)
    const leaderUrl = nodes.find((node) => node.id === leader)!.url
    process.stdout.write(
      [
        `Swarm Monitor cluster demo: ${nodes.length} nodes on Redis and PostgreSQL, behind nginx at ${url}`,
        `  operator: ${url}/#token=${tokens.operator}`,
        `  viewer:   ${url}/#token=${tokens.viewer}`,
        ...nodes.map(
          (node) => `  ${node.id}:   ${node.url} (${node.id === leader ? 'leader' : 'follower'}, log ${node.logFile})`,
        ),
        `  agents:   the leader, ${leaderUrl} (namespace /agents), token ${tokens.agent}`,
        `  redis:    ${redis.url}   postgresql: 127.0.0.1:${pg.port}`,
        `Ctrl-C stops everything and removes ${dir}.`,
        '',
      ].join('\n'),
    )
  } catch (error) {
    process.stderr.write(`cluster:demo: ${error instanceof Error ? error.message : String(error)}\n`)
    await stop()
    process.exit(1)
  }
}

/** Fails unless `/healthz` at `url` answers from one of the nodes. */
async function throughNginx(url: string, nodes: readonly ClusterNode[]): Promise<void> {
  const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })
  const body = (await health.json().catch(() => null)) as { node?: { id?: string } } | null
  if (!nodes.some((node) => node.id === body?.node?.id)) {
    throw new Error(`${url}/healthz did not answer from a node (${health.status}): is something else on that port?`)
  }
}

function token(): string {
  return randomBytes(18).toString('base64url')
}

void main(process.argv.slice(2))
