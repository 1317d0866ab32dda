/**
 * The floor under the latency figures: a bare Socket.IO server (same
 * transport settings as the core, no coordinator, no pipeline) broadcasting
 * batches shaped like the core's under the latency load — one task's life
 * (queued, assigned, agent busy, running, agent idle, succeeded) per batch,
 * flushed when the task ends — to the same clients. What it measures is what this
 * machine, Socket.IO and the client process cost by themselves.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import type { Agent, MetricsSample, Task } from '../src/shared/domain'
import type { DomainEvent } from '../src/shared/events'
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

  constructor() {
    this.io.of(DASHBOARD_NAMESPACE).on('connection', (socket) => {
      const snapshot: Snapshot = {
        seq: this.seq,
        agents: [],
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
    const idle: Agent = {
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
      counters: { done: n, failed: 0 },
      resources: { cpu: 12.5, memoryMb: 310 },
      offline: null,
    }
    const busy: Agent = { ...idle, status: 'busy', currentTaskIds: [`t-baseline-${n}`] }
    const done: Task = {
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
    const queued: Task = { ...done, status: 'queued', agentId: null, attempts: 0, progress: 0, startedAt: null }
    const assigned: Task = { ...queued, status: 'assigned', agentId: idle.id, attempts: 1 }
    const running: Task = { ...assigned, status: 'running', startedAt: at - 55 }
    Object.assign(queued, { finishedAt: null, result: null })
    Object.assign(assigned, { finishedAt: null, result: null })
    Object.assign(running, { finishedAt: null, result: null })
    return [
      { seq: ++this.seq, type: 'task:status', at: at - 60, task: queued },
      { seq: ++this.seq, type: 'task:status', at: at - 60, task: assigned },
      { seq: ++this.seq, type: 'agent:status', at: at - 60, agent: busy },
      { seq: ++this.seq, type: 'task:status', at: at - 55, task: running },
      { seq: ++this.seq, type: 'agent:status', at, agent: idle },
      { seq: ++this.seq, type: 'task:status', at, task: done },
    ]
  }
}
