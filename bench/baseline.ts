/**
 * The floor under the latency figures: a bare Socket.IO server (same
 * transport settings as the core, no coordinator, no pipeline) broadcasting
 * batches shaped like the core's under the latency load — one task's life
 * (queued, assigned, agent busy, running, agent idle, succeeded) per batch,
 * flushed when the task ends, slimmed and merged by the core's own `Slimmer`
 * and `Batcher` so the bytes are the core's — to the same clients. What it measures is what this
 * machine, Socket.IO and the client process cost by themselves.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { Batcher } from '../src/main/core/pipeline/batcher'
import { Slimmer } from '../src/main/core/pipeline/slim'
import type { Agent, MetricsSample, Task } from '../src/shared/domain'
import type { DomainEvent, SwarmChange } from '../src/shared/events'
import { DASHBOARD_NAMESPACE, type Snapshot } from '../src/shared/protocol'
import type { LoadReport, LoadSpec } from './api'

const SAMPLE: MetricsSample = {
  at: 0,
  agents: { idle: 0, busy: 0, paused: 0, error: 0, offline: 0 },
  queued: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  throughput: 0,
}

export class Baseline {
  private readonly http = createServer()
  private readonly io = new Server(this.http, { serveClient: false, perMessageDeflate: false })
  private seq = 0
  private readonly slim = new Slimmer()
  private readonly agent = benchAgent(Date.now())

  constructor() {
    // Announced once, so the batches carry the agent's changes only, as the core's do.
    this.slim.project({ type: 'agent:status', at: this.agent.joinedAt, agent: this.agent })
    this.io.of(DASHBOARD_NAMESPACE).on('connection', (socket) => {
      const snapshot: Snapshot = {
        seq: this.seq,
        agents: [this.agent],
        tasks: [],
        metrics: { current: SAMPLE, history: [] },
        alerts: [],
      }
      socket.emit('snapshot', snapshot)
    })
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`
  }

  /** Emits `tasksPerS` immediate batches per second for `durationMs`. */
  async run(spec: LoadSpec): Promise<LoadReport> {
    const started = performance.now()
    let tasks = 0
    await new Promise<void>((resolve) => {
      const timer = setInterval(
        () => {
          this.io.of(DASHBOARD_NAMESPACE).emit('events', this.batch(tasks++))
          if (performance.now() - started >= spec.durationMs) {
            clearInterval(timer)
            resolve()
          }
        },
        1000 / Math.max(1, spec.tasksPerS),
      )
    })
    const durationMs = performance.now() - started
    return { durationMs, logs: 0, heartbeats: 0, tasks, completed: tasks, maxTickLateMs: 0, undrained: 0 }
  }

  async stop(): Promise<void> {
    this.io.disconnectSockets(true)
    await new Promise<void>((resolve) => this.io.close(() => resolve()))
  }

  private batch(n: number): DomainEvent[] {
    const at = Date.now()
    // What a task's life changes in its agent: status, tasks held, and the count of tasks done.
    const busy: Agent = { ...this.agent, status: 'busy', currentTaskIds: [`t-baseline-${n}`], counters: done(n) }
    const idle: Agent = { ...this.agent, counters: done(n + 1) }
    const succeeded: Task = {
      id: `t-baseline-${n}`,
      name: `bench #${n}`,
      kind: 'bench',
      payload: { demo: true, n },
      priority: 0,
      capabilities: ['bench'],
      status: 'succeeded',
      agentId: idle.id,
      attempts: 1,
      requeues: 0,
      maxRetries: 0,
      timeoutMs: null,
      progress: 1,
      createdAt: at - 60,
      updatedAt: at,
      startedAt: at - 55,
      finishedAt: at,
      result: { ok: true },
      error: null,
    }
    const unfinished = { finishedAt: null, result: null }
    const queued: Task = { ...succeeded, ...unfinished, status: 'queued', agentId: null, attempts: 0, progress: 0 }
    Object.assign(queued, { startedAt: null, updatedAt: at - 60 })
    const assigned: Task = { ...queued, status: 'assigned', agentId: idle.id, attempts: 1 }
    const running: Task = { ...assigned, status: 'running', startedAt: at - 55, updatedAt: at - 55 }
    const changes: SwarmChange[] = [
      { type: 'task:status', at: at - 60, task: queued },
      { type: 'task:status', at: at - 60, task: assigned },
      { type: 'agent:status', at: at - 60, agent: busy },
      { type: 'task:status', at: at - 55, task: running },
      { type: 'agent:status', at, agent: idle },
      { type: 'task:status', at, task: succeeded },
    ]
    let batch: DomainEvent[] = []
    const batcher = new Batcher({ send: (events) => (batch = events) })
    for (const change of changes) {
      const event = this.slim.project(change)
      if (event) batcher.push({ ...event, seq: ++this.seq } as DomainEvent)
    }
    batcher.flush()
    return batch
  }
}

function done(tasks: number): Agent['counters'] {
  return { done: tasks, failed: 0 }
}

function benchAgent(at: number): Agent {
  return {
    id: 'bench-001',
    name: 'bench-001',
    kind: 'demo',
    capabilities: ['bench'],
    status: 'idle',
    concurrency: 4,
    kinds: null,
    currentTaskIds: [],
    lastHeartbeat: at,
    joinedAt: at,
    counters: done(0),
    resources: { cpu: 12.5, memoryMb: 310 },
    offline: null,
  }
}
