/**
 * Cluster node processes of the built CLI (out/main/cli.js) on one Redis and
 * one PostgreSQL, for tests and `npm run cluster:demo`. Each node gets a free
 * loopback port chosen here (a proxy's configuration names it before the node
 * runs), its own data dir, and a log file instead of an in-memory buffer, so
 * a demo left running for hours holds no growing output. A node is ready when
 * its own `/healthz` answers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './ports'
import { ROOT, builtEntry } from './process'

export interface ClusterNode {
  id: string
  port: number
  /** http://127.0.0.1:port */
  url: string
  dataDir: string
  logFile: string
  child: ChildProcess
  /** What it wrote so far (stdout and stderr). */
  log(): string
}

export interface NodeOptions {
  ids: string[]
  redis: string
  database: string
  /** Where the nodes' data dirs and log files go (`<dir>/<id>/`, `<dir>/<id>.log`). */
  dir: string
  /** More flags for every node (`--demo`, `--allow-origin …`). */
  args?: string[]
  env?: NodeJS.ProcessEnv
}

const READY_MS = 30_000

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok
  } catch {
    return false
  }
}

/** Starts the nodes at once; resolves when each answers `/healthz`, or fails with the log of one that did not. */
export async function startNodes(options: NodeOptions): Promise<ClusterNode[]> {
  const cli = builtEntry('cli')
  const nodes: ClusterNode[] = []
  for (const id of options.ids) {
    const port = await freePort()
    const dataDir = join(options.dir, id)
    // Private, as a node's own data dir is (it warns otherwise): tokens and the history live there.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const logFile = join(options.dir, `${id}.log`)
    const fd = openSync(logFile, 'a')
    const args = ['--port', String(port), '--data-dir', dataDir, '--node-id', id]
    args.push('--database', options.database, '--redis', options.redis, ...(options.args ?? []))
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
    })
    // The child holds its own copy of the descriptor.
    closeSync(fd)
    const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
    nodes.push({ id, port, url: `http://127.0.0.1:${port}`, dataDir, logFile, child, log })
  }
  const deadline = Date.now() + READY_MS
  for (const node of nodes) {
    while (!(await healthy(node.url))) {
      if (node.child.exitCode !== null || Date.now() > deadline) {
        await stopNodes(nodes)
        throw new Error(`cluster node ${node.id} did not start on ${node.url}:\n${node.log()}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return nodes
}

/** SIGTERM to each node still running; SIGKILL after `graceMs`; resolves when all have exited. */
export async function stopNodes(nodes: readonly ClusterNode[], graceMs = 10_000): Promise<void> {
  await Promise.all(
    nodes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    }),
  )
}

interface ClusterView {
  leader: string | null
  nodes: { id: string; gone?: boolean }[]
}

/** Resolves with the leader's id once every node names the same one and sees all of them; fails after `timeoutMs`. */
export async function agreedLeader(nodes: readonly ClusterNode[], viewerToken: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  let last: unknown = null
  for (;;) {
    try {
      const views = await Promise.all(
        nodes.map(async (node) => {
          const response = await fetch(`${node.url}/api/cluster`, {
            headers: { authorization: `Bearer ${viewerToken}` },
            signal: AbortSignal.timeout(2_000),
          })
          return (await response.json()) as ClusterView
        }),
      )
      last = views
      const leader = views[0]!.leader
      const agreed = views.every(
        (view) =>
          view.leader !== null &&
          view.leader === leader &&
          nodes.every((node) => view.nodes.some((entry) => entry.id === node.id && !entry.gone)),
      )
      if (agreed && leader !== null) return leader
    } catch (error) {
      last = String(error)
    }
    if (Date.now() > deadline) throw new Error(`the nodes did not agree on a leader: last ${JSON.stringify(last)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
