/**
 * The demo swarm: simulated agents and a synthetic task stream, so that a
 * fresh start shows a living dashboard and benchmarks have a load source.
 * Simulated agents go through the same coordinator as real ones; only their
 * work is pretend. Randomness is injected so tests can fix it.
 */
import type { Task } from '../../../shared/domain'
import type { AgentDriver, Coordinator } from '../coordinator/coordinator'

export interface DemoOptions {
  agents: number
  /** Synthetic tasks per second. */
  rate: number
  random?: () => number
  /** Scales every simulated duration (1 = demo pace; tests use less). */
  speed?: number
  /** Share of tasks that fail. */
  failureRate?: number
}

/**
 * Each task kind below needs one capability, and each capability is on half
 * of the agents (every 6 agents: cpu, gpu, io and net three times each), so
 * no kind waits on a small pool. With the default 12 agents and 1.5 tasks/s
 * (about 4.7 s each) the agents are busy ~57 % of the time: the queue rises
 * and falls but does not keep growing, so a fresh start does not raise the
 * "backlog growing" alert by itself (tests/unit/core/demo-swarm.test.ts).
 * Rates near 12 / 4.7 ≈ 2.5 tasks/s outgrow it, and then the alert is right.
 */
const CAPABILITY_SETS = [
  ['cpu', 'gpu'],
  ['cpu', 'io'],
  ['gpu', 'net'],
  ['net', 'io'],
  ['cpu', 'net'],
  ['io', 'gpu'],
]
const TASK_KINDS = [
  { kind: 'render', capabilities: ['gpu'] },
  { kind: 'etl', capabilities: ['io'] },
  { kind: 'crawl', capabilities: ['net'] },
  { kind: 'compile', capabilities: ['cpu'] },
  { kind: 'report', capabilities: [] },
]
const HEARTBEAT_MS = 5000

const NAMES = ['ant', 'bee', 'wasp', 'moth', 'gnat', 'mite', 'flea', 'fly']

export class DemoSwarm {
  private readonly random: () => number
  private readonly speed: number
  private readonly failureRate: number
  private readonly timers = new Set<NodeJS.Timeout>()
  private generator: NodeJS.Timeout | null = null
  private heartbeats: NodeJS.Timeout | null = null
  private taskNumber = 0
  private readonly agentIds: string[] = []

  constructor(
    private readonly coordinator: Coordinator,
    private readonly options: DemoOptions,
  ) {
    this.random = options.random ?? Math.random
    this.speed = options.speed ?? 1
    this.failureRate = options.failureRate ?? 0.08
  }

  start(): void {
    for (let i = 0; i < this.options.agents; i++) {
      const id = `demo-${String(i + 1).padStart(2, '0')}`
      const name = `${NAMES[i % NAMES.length]}-${String(i + 1).padStart(2, '0')}`
      const capabilities = CAPABILITY_SETS[i % CAPABILITY_SETS.length]!
      this.coordinator.addAgent({ id, name, kind: 'demo', capabilities }, this.driverFor(id, name))
      this.agentIds.push(id)
    }
    if (this.options.rate > 0) this.scheduleNextTask()
    this.heartbeats = setInterval(() => this.beat(), HEARTBEAT_MS)
  }

  stop(): void {
    if (this.generator) clearTimeout(this.generator)
    if (this.heartbeats) clearInterval(this.heartbeats)
    this.generator = null
    this.heartbeats = null
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  /** Enqueues one synthetic task. */
  submitTask(): Task {
    const template = TASK_KINDS[Math.floor(this.random() * TASK_KINDS.length)]!
    this.taskNumber++
    // Pretend work: kept out of the history database (a client's task never is, whatever its payload says).
    return this.coordinator.submit(
      {
        name: `${template.kind} #${this.taskNumber}`,
        kind: template.kind,
        payload: { size: Math.round(this.random() * 1000) },
        priority: this.random() < 0.1 ? 10 : 0,
        capabilities: template.capabilities,
        timeoutMs: null,
        maxRetries: 0,
      },
      { ephemeral: true },
    )
  }

  /** Every simulated agent reports in, with made-up but plausible resource figures. */
  private beat(): void {
    for (const id of this.agentIds) {
      const busy = this.coordinator.getAgent(id)?.status === 'busy'
      const cpu = Math.round((busy ? 40 + this.random() * 55 : 2 + this.random() * 8) * 10) / 10
      const memoryMb = Math.round(180 + this.random() * 60 + (busy ? 300 : 0))
      this.coordinator.heartbeat(id, { cpu, memoryMb })
    }
  }

  private scheduleNextTask(): void {
    // Poisson arrivals: exponential gaps with the configured mean rate.
    const gap = (-Math.log(1 - this.random()) / this.options.rate) * 1000
    this.generator = setTimeout(() => {
      this.submitTask()
      this.scheduleNextTask()
    }, gap)
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      action()
    }, ms * this.speed)
    this.timers.add(timer)
  }

  /** `name`: the agent's name as the dashboard shows it, for the log text (the id is in the line's agent field). */
  private driverFor(agentId: string, name: string): AgentDriver {
    const cancelled = new Set<string>()
    const coordinator = this.coordinator
    return {
      assign: (task) => {
        cancelled.delete(task.id)
        const duration = 1000 + this.random() * 7000
        const steps = 4
        this.later(50 + this.random() * 250, () => {
          if (cancelled.has(task.id)) return
          coordinator.reportStarted(agentId, task.id)
          coordinator.reportLog(agentId, task.id, 'info', `${task.name} started on ${name}`)
        })
        for (let step = 1; step < steps; step++) {
          this.later((duration * step) / steps, () => {
            if (!cancelled.has(task.id)) coordinator.reportProgress(agentId, task.id, step / steps)
          })
        }
        this.later(duration, () => {
          if (cancelled.has(task.id)) return
          if (this.random() < this.failureRate) {
            coordinator.reportLog(agentId, task.id, 'error', `${task.name}: simulated failure`)
            coordinator.reportFailed(agentId, task.id, 'simulated failure')
          } else {
            coordinator.reportSucceeded(agentId, task.id, { items: Math.round(this.random() * 100) })
          }
        })
      },
      cancel: (taskId) => {
        cancelled.add(taskId)
      },
    }
  }
}
