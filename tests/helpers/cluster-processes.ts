/**
 * Cluster nodes as real processes (the built CLI) and viewers that watch
 * what they are sent, for the failure proofs (tests/integration/
 * cluster-failures.test.ts): start three nodes on one Redis and one
 * PostgreSQL database, kill them with SIGKILL, move viewers between them,
 * and check that every viewer holds what its node's `/api/snapshot` holds and
 * never applied an event out of order.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClusterInfo } from '../../src/shared/cluster'
import type { TaskSummary } from '../../src/shared/domain'
import type { Snapshot, Welcome } from '../../src/shared/protocol'
import { applyEvents, applySnapshot, createSwarmState, type SwarmState } from '../../src/shared/reducer'
import { TEST_TOKENS, TOKEN_ENV, dashboardClient, getJson, type DashboardSocket } from './core'
import { builtEntry, run, type RunningProcess } from './process'

export interface NodeProcess {
  id: string
  url: string
  process: RunningProcess
}

/** Starts one node of the cluster and resolves once it listens. */
export async function startNode(id: string, database: string, redis: string): Promise<NodeProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sm-failures-'))
  const args = ['--port', '0', '--data-dir', dataDir, '--no-demo', '--local-agents', '0', '--node-id', id]
  const started = run(builtEntry('cli'), [...args, '--database', database, '--redis', redis], TOKEN_ENV)
  const url = (await started.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!
  return { id, url, process: started }
}

export const clusterInfo = async (url: string) =>
  (await getJson(`${url}/api/cluster`, TEST_TOKENS.viewer)).body as ClusterInfo
export const snapshotOf = async (url: string) =>
  (await getJson(`${url}/api/snapshot`, TEST_TOKENS.viewer)).body as Snapshot

/** What must agree between a viewer and its node: every task's id, status and attempts, in id order. */
export const tasksOf = (tasks: Iterable<TaskSummary>) =>
  [...tasks].map(({ id, status, attempts }) => ({ id, status, attempts })).sort((a, b) => a.id.localeCompare(b.id))

/**
 * A viewer holding the swarm with the shared reducer, as the dashboard does,
 * that records its welcomes and snapshots and any event whose seq is not
 * above the one before it since the last snapshot (`stale`).
 */
export class TrackedViewer {
  readonly state: SwarmState = createSwarmState()
  readonly welcomes: Welcome[] = []
  readonly stale: string[] = []
  snapshots = 0
  socket!: DashboardSocket
  url = ''
  private last = -1

  constructor(url: string) {
    this.connect(url)
  }

  /** Reconnects to `url` as the dashboard does: with the seq it holds and the instance of its last welcome. */
  moveTo(url: string): void {
    this.socket.close()
    const instance = this.welcomes.at(-1)?.instance
    this.connect(url, { sinceSeq: this.state.seq, instance })
  }

  close(): void {
    this.socket.close()
  }

  private connect(url: string, resume: { sinceSeq: number; instance?: string } | null = null): void {
    this.url = url
    const socket = dashboardClient(url, TEST_TOKENS.viewer, {
      auth: { token: TEST_TOKENS.viewer, ...(resume ?? {}) },
    })
    socket.on('welcome', (welcome) => this.welcomes.push(welcome))
    socket.on('snapshot', (snapshot) => {
      this.snapshots++
      this.last = snapshot.seq
      applySnapshot(this.state, snapshot)
    })
    socket.on('events', (events) => {
      for (const event of events) {
        if (event.seq <= this.last) this.stale.push(`${event.seq} after ${this.last} from ${url}`)
        this.last = Math.max(this.last, event.seq)
      }
      applyEvents(this.state, events)
    })
    this.socket = socket
  }
}

/** Whether the viewer holds exactly what its node's `/api/snapshot` says, at the same seq. */
export async function agreesWithNode(viewer: TrackedViewer): Promise<boolean> {
  const snapshot = await snapshotOf(viewer.url)
  return (
    viewer.state.hasSnapshot &&
    snapshot.seq === viewer.state.seq &&
    JSON.stringify(tasksOf(snapshot.tasks)) === JSON.stringify(tasksOf(viewer.state.tasks.values()))
  )
}
