/**
 * Puts a measured load on the coordinator from inside the server process:
 * log lines, agent heartbeats and short tasks at given rates, through the
 * same public methods remote agents end up calling. Runs for a bounded time
 * and catches up at most 100 ms of lag, so a saturated server shows as a
 * lower achieved rate rather than as an ever-growing burst.
 */
import type { Coordinator } from '../src/main/core/coordinator/coordinator'
import type { LoadReport, LoadSpec } from './api'

const TICK_MS = 5
const MAX_CATCH_UP_S = 0.1
const DRAIN_TIMEOUT_MS = 10_000
const CAPABILITY = 'bench'

export class Injector {
  private readonly agentIds: string[] = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private outstanding = 0
  private completed = 0
  private running = false
  private taskMs = 0

  constructor(
    private readonly coordinator: Coordinator,
    agents: number,
  ) {
    for (let i = 1; i <= agents; i++) {
      const id = `bench-${String(i).padStart(3, '0')}`
      coordinator.addAgent(
        { id, name: id, kind: 'demo', capabilities: [CAPABILITY], concurrency: 4 },
        { assign: (task) => this.work(id, task.id), cancel: () => {} },
      )
      this.agentIds.push(id)
    }
  }

  async run(spec: LoadSpec): Promise<LoadReport> {
    if (this.running) throw new Error('a load is already running')
    if (this.agentIds.length === 0 && spec.heartbeatsPerS + spec.tasksPerS > 0) throw new Error('no injector agents')
    this.running = true
    this.taskMs = spec.taskMs
    const done = { logs: 0, heartbeats: 0, tasks: 0 }
    const skipped = { logs: 0, heartbeats: 0, tasks: 0 }
    const completedBefore = this.completed
    const started = performance.now()
    let last = started
    let maxTickLateMs = 0
    let agent = 0
    const owed = (kind: keyof typeof done, perS: number, elapsedS: number) => {
      const due = Math.floor(perS * elapsedS) - done[kind] - skipped[kind]
      const cap = Math.ceil(perS * MAX_CATCH_UP_S)
      if (due > cap) skipped[kind] += due - cap
      return Math.min(due, cap)
    }
    const nextAgent = () => this.agentIds[agent++ % this.agentIds.length]!

    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now()
        maxTickLateMs = Math.max(maxTickLateMs, now - last - TICK_MS)
        last = now
        const elapsedS = Math.min(now - started, spec.durationMs) / 1000
        for (let n = owed('logs', spec.logsPerS, elapsedS); n > 0; n--) {
          const id = nextAgent()
          const line = `bench step ${done.logs}: processed a batch of records on ${id}`
          const text = spec.logBytes ? line.padEnd(spec.logBytes, '.') : line
          this.coordinator.reportLog(id, null, spec.logLevel ?? 'info', text)
          done.logs++
        }
        for (let n = owed('heartbeats', spec.heartbeatsPerS, elapsedS); n > 0; n--) {
          this.coordinator.heartbeat(nextAgent(), {
            cpu: Math.round(Math.random() * 1000) / 10,
            memoryMb: 200 + Math.round(Math.random() * 300),
          })
          done.heartbeats++
        }
        for (let n = owed('tasks', spec.tasksPerS, elapsedS); n > 0; n--) {
          this.submit(done.tasks)
          done.tasks++
        }
        if (now - started >= spec.durationMs) {
          clearInterval(timer)
          resolve()
        }
      }, TICK_MS)
    })
    const durationMs = performance.now() - started
    const undrained = await this.drain()
    this.running = false
    return {
      durationMs,
      ...done,
      completed: this.completed - completedBefore,
      maxTickLateMs: Math.round(maxTickLateMs),
      undrained,
    }
  }

  /** Takes the injector's agents out of the swarm (their finished tasks stay in the history). */
  removeAgents(): void {
    for (const id of this.agentIds.splice(0)) this.coordinator.removeAgent(id)
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  private submit(n: number): void {
    this.outstanding++
    // Ephemeral: these pretend tasks stay out of the history database, as the demo swarm's do.
    this.coordinator.submit(
      {
        name: `bench #${n}`,
        kind: 'bench',
        payload: { n },
        priority: 0,
        capabilities: [CAPABILITY],
        timeoutMs: null,
        maxRetries: 0,
      },
      { ephemeral: true },
    )
  }

  private work(agentId: string, taskId: string): void {
    // Not from inside the coordinator's assign call: an agent reports back later, as a real one would.
    queueMicrotask(() => this.coordinator.reportStarted(agentId, taskId))
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.coordinator.reportSucceeded(agentId, taskId, { ok: true })
      this.outstanding--
      this.completed++
    }, this.taskMs)
    this.timers.add(timer)
  }

  /** Waits until every submitted task has finished; answers how many had not when time ran out. */
  private async drain(): Promise<number> {
    const deadline = performance.now() + DRAIN_TIMEOUT_MS
    while (this.outstanding > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    return this.outstanding
  }
}
