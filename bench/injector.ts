/**
 * Puts a measured load on the coordinator from inside the server process:
 * log lines, agent heartbeats and short tasks at given rates, through the
 * same public methods remote agents end up calling, paced by pacing.ts.
 */
import type { Coordinator } from '../src/main/core/coordinator/coordinator'
import type { LoadReport, LoadSpec } from './api'
import { logLine, pace } from './pacing'

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
    const completedBefore = this.completed
    let agent = 0
    const nextAgent = () => this.agentIds[agent++ % this.agentIds.length]!
    const paced = await pace(spec, {
      log: (n) => {
        const id = nextAgent()
        this.coordinator.reportLog(id, null, spec.logLevel ?? 'info', logLine(spec, n, id))
      },
      heartbeat: () =>
        this.coordinator.heartbeat(nextAgent(), {
          cpu: Math.round(Math.random() * 1000) / 10,
          memoryMb: 200 + Math.round(Math.random() * 300),
        }),
      task: (n) => this.submit(n),
    })
    const undrained = await this.drain()
    this.running = false
    return { ...paced, completed: this.completed - completedBefore, undrained }
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
