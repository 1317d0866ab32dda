/** Test data builders shared by unit tests. */
import type { Agent, MetricsSample, Task, TaskStatus } from '../../src/shared/domain'
import type { Snapshot } from '../../src/shared/protocol'
import { isTerminal } from '../../src/shared/statuses'
import type { AgentDriver } from '../../src/main/core/coordinator/types'

/** An epoch ms to build data around. */
export const T0 = 1_700_000_000_000

/** A metrics sample at `at` with every figure 0 unless given. */
export function sample(at: number, overrides: Partial<MetricsSample> = {}): MetricsSample {
  return {
    at,
    agents: { idle: 0, busy: 0, paused: 0, error: 0, offline: 0 },
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    throughput: 0,
    ...overrides,
  }
}

/** An idle demo agent named `agent-<id>`. */
export function agent(id: string, overrides: Partial<Agent> = {}): Agent {
  return {
    id,
    name: `agent-${id}`,
    kind: 'demo',
    capabilities: ['cpu'],
    status: 'idle',
    concurrency: 1,
    kinds: null,
    currentTaskIds: [],
    lastHeartbeat: T0,
    joinedAt: T0,
    counters: { done: 0, failed: 0 },
    resources: null,
    offline: null,
    ...overrides,
  }
}

/** A task in `status`, created (and, if finished, finished) at `createdAt`. */
export function task(id: string, status: TaskStatus, createdAt = T0, overrides: Partial<Task> = {}): Task {
  const finished = isTerminal(status)
  return {
    id,
    name: `task-${id}`,
    kind: 'demo',
    payload: {},
    priority: 0,
    capabilities: [],
    status,
    agentId: null,
    attempts: 1,
    requeues: 0,
    maxRetries: 0,
    timeoutMs: null,
    progress: finished ? 1 : 0,
    createdAt,
    updatedAt: createdAt,
    startedAt: null,
    finishedAt: finished ? createdAt : null,
    result: null,
    error: null,
    ...overrides,
  }
}

/** A snapshot at `seq`: empty, with one metrics sample at T0, unless given. */
export function snapshot(seq: number, parts: Partial<Omit<Snapshot, 'seq'>> = {}): Snapshot {
  return {
    seq,
    agents: [],
    tasks: [],
    metrics: { current: sample(T0), history: [] },
    alerts: [],
    kinds: [],
    schedules: [],
    ...parts,
  }
}

/** An agent driver that records what the coordinator hands it; the test plays the agent. */
export class RecordingDriver implements AgentDriver {
  assigned: Task[] = []
  cancelled: string[] = []
  assign(task: Task): void {
    this.assigned.push(task)
  }
  cancel(taskId: string): void {
    this.cancelled.push(taskId)
  }
}
