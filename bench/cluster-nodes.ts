/**
 * Three built cluster nodes for the cluster scenario, each a bench server
 * process (server.ts, `built: true`) with `--database`, `--redis`,
 * `--node-id`, a fixed loopback port and a data dir of its own, so that a
 * node killed with `kill -9` comes back under the same name, port and dir
 * (as a follower: the others lead by then). Plus what the scenario reads
 * from outside: `/healthz`, `/metrics`, and Redis's own figures
 * (`redis-cli`).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../tests/helpers/ports'
import { BENCH_TOKENS, type ServerSetup } from './api'
import { sleep } from './child'
import { NO_DEMO, startServer, type ServerHandle } from './harness'
import { metric, scrapeMetrics } from './scrape'

const run = promisify(execFile)

export interface BenchNode {
  id: string
  port: number
  url: string
  dataDir: string
  server: ServerHandle | null
}

export interface Health {
  role: string
  id: string
}

export async function health(url: string): Promise<Health | null> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })
    if (!response.ok) return null
    const body = (await response.json()) as { node?: { id: string; role: string } }
    return body.node ? { id: body.node.id, role: body.node.role } : null
  } catch {
    return null
  }
}

/** `swarm_client_resyncs_total` of a node: snapshots sent to its viewers after their first. */
export async function resyncs(url: string): Promise<number> {
  return metric(await scrapeMetrics(url, BENCH_TOKENS.operator), 'swarm_client_resyncs_total')
}

export class BenchCluster {
  readonly nodes: BenchNode[] = []

  constructor(
    private readonly database: string,
    private readonly redisUrl: string,
    private readonly flags: string[],
  ) {}

  /** Starts `count` nodes, the first alone until it leads, so that the bench knows which one does. */
  async start(count: number): Promise<void> {
    for (let i = 1; i <= count; i++) {
      const port = await freePort()
      const node: BenchNode = {
        id: `n${i}`,
        port,
        url: `http://127.0.0.1:${port}`,
        dataDir: mkdtempSync(join(tmpdir(), `sm-bench-n${i}-`)),
        server: null,
      }
      this.nodes.push(node)
      await this.boot(node)
      if (i === 1 && !(await this.waitRole(node, 'leader', 20_000))) throw new Error('n1 did not lead within 20 s')
    }
    for (const node of this.nodes.slice(1)) {
      if (!(await this.waitRole(node, 'follower', 20_000))) throw new Error(`${node.id} did not follow within 20 s`)
    }
  }

  /** Starts (or starts again) a node's process; its injector's agents come at its first load, if it leads then. */
  async boot(node: BenchNode): Promise<void> {
    const setup: ServerSetup = {
      ...NO_DEMO,
      built: true,
      database: this.database,
      flags: [
        ...['--redis', this.redisUrl, '--node-id', node.id, '--port', String(node.port)],
        ...['--data-dir', node.dataDir, ...this.flags],
      ],
    }
    node.server = await startServer(setup)
  }

  async waitRole(node: BenchNode, role: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms
    while (Date.now() < until) {
      if ((await health(node.url))?.role === role) return true
      await sleep(50)
    }
    return false
  }

  async leader(): Promise<BenchNode | null> {
    for (const node of this.nodes) {
      if (node.server && (await health(node.url))?.role === 'leader') return node
    }
    return null
  }

  /** `kill -9` of a node's process; resolves once it is gone. */
  async kill(node: BenchNode): Promise<void> {
    const pid = node.server?.pid
    node.server = null
    if (pid === undefined) return
    process.kill(pid, 'SIGKILL')
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0)
      } catch {
        return
      }
      await sleep(20)
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.server?.child.stop('stop')))
    for (const node of this.nodes) rmSync(node.dataDir, { recursive: true, force: true })
  }
}

/** Redis's memory and the stream's length and bytes, from `redis-cli` (Debian's `redis-tools`). */
export async function redisFigures(
  port: number,
): Promise<{ usedMemoryMb: number; streamLength: number; streamMb: number } | null> {
  try {
    const cli = (...args: string[]) =>
      run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 }).then((out) => out.stdout.trim())
    const info = await cli('INFO', 'memory')
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0)
    const length = Number(await cli('XLEN', 'swarm:events'))
    const bytes = Number(await cli('MEMORY', 'USAGE', 'swarm:events', 'SAMPLES', '0'))
    return { usedMemoryMb: used / 2 ** 20, streamLength: length, streamMb: bytes / 2 ** 20 }
  } catch {
    return null
  }
}
