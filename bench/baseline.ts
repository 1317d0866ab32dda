/**
 * The floor under the latency and capacity figures: a bare Socket.IO server
 * (same transport settings as the core, no coordinator, no pipeline, no
 * bounds) broadcasting batches shaped like the core's to the same clients.
 * Under the latency load, one task's life (queued, assigned, agent busy,
 * running, agent idle, succeeded) per batch, flushed when the task ends;
 * under a log-line load, the lines batched by the core's own Batcher (error
 * lines at the end of the turn, the others by the 1 s window or 100 at a
 * time). A viewer that offers `auth.encoding: 'deflate-raw'` gets each batch
 * deflated once for all such viewers, in base64, as from the core; `compression` turns
 * on permessage-deflate, as `--ws-compression` does. Task changes are slimmed
 * by the core's own `Slimmer`, so the bytes are the core's. What it measures is
 * what this machine, Socket.IO and the client processes cost by themselves.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deflateRawSync } from 'node:zlib'
import { Server, type Socket } from 'socket.io'
import { Batcher } from '../src/main/core/pipeline/batcher'
import { Slimmer } from '../src/main/core/pipeline/slim'
import type { Agent, MetricsSample, Task } from '../src/shared/domain'
import type { DomainEvent, SwarmChange } from '../src/shared/events'
import { DASHBOARD_NAMESPACE, type Snapshot } from '../src/shared/protocol'
import type { LoadReport, LoadSpec } from './api'
import { logLine, pace } from './pacing'

const COMPRESS_MIN_BYTES = 512

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
  private readonly io: Server
  private readonly batcher = new Batcher({ send: (events) => this.emit(events) })
  private readonly slim = new Slimmer()
  private readonly agent = benchAgent(Date.now())
  seq = 0

  constructor(compression = false) {
    this.io = new Server(this.http, {
      serveClient: false,
      perMessageDeflate: compression ? { threshold: 1024 } : false,
    })
    // Announced once, so the batches carry the agent's changes only, as the core's do.
    this.slim.project({ type: 'agent:status', at: this.agent.joinedAt, agent: this.agent })
    this.io.of(DASHBOARD_NAMESPACE).on('connection', (socket: Socket) => {
      const deflate = (socket.handshake.auth as { encoding?: unknown }).encoding === 'deflate-raw'
      void socket.join(deflate ? 'deflate-raw' : 'json')
      socket.emit('welcome', { encoding: deflate ? 'deflate-raw' : 'json' })
      const snapshot: Snapshot = {
        seq: this.seq,
        agents: [this.agent],
        tasks: [],
        metrics: { current: SAMPLE, history: [] },
        alerts: [],
        kinds: [],
        schedules: [],
      }
      socket.emit('snapshot', snapshot)
    })
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`
  }

  /** Tasks: `tasksPerS` immediate batches per second. Log lines: batched as the core batches them. */
  async run(spec: LoadSpec): Promise<LoadReport> {
    if (spec.heartbeatsPerS > 0) throw new Error('the baseline sends tasks or log lines, not heartbeats')
    if (spec.logsPerS > 0) {
      const paced = await pace(spec, {
        log: (n) => this.batcher.push(this.logEvent(spec, n)),
        heartbeat: () => {},
        task: (n) => this.emit(this.batch(n)),
      })
      this.batcher.flush()
      return { ...paced, completed: paced.tasks, undrained: 0 }
    }
    const started = performance.now()
    let tasks = 0
    await new Promise<void>((resolve) => {
      const timer = setInterval(
        () => {
          this.emit(this.batch(tasks++))
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

  /** One batch to every viewer: plain JSON, and deflated once for the viewers that asked for it. */
  private emit(events: DomainEvent[]): void {
    const namespace = this.io.of(DASHBOARD_NAMESPACE)
    namespace.to('json').emit('events', events)
    if (namespace.adapter.rooms.get('deflate-raw')?.size) {
      const json = JSON.stringify(events)
      if (json.length < COMPRESS_MIN_BYTES) namespace.to('deflate-raw').emit('events', events)
      else
        namespace.to('deflate-raw').compress(false).emit('events:deflate-raw', deflateRawSync(json).toString('base64'))
    }
  }

  private logEvent(spec: LoadSpec, n: number): DomainEvent {
    const agentId = `bench-${String((n % 20) + 1).padStart(3, '0')}`
    return {
      seq: ++this.seq,
      type: 'task:log',
      at: Date.now(),
      taskId: '',
      agentId,
      level: spec.logLevel ?? 'info',
      message: logLine(spec, n, agentId),
    }
  }

  async stop(): Promise<void> {
    this.batcher.stop()
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
