/**
 * The coordinator: owns agents and tasks, matches queued tasks to idle agents
 * by priority and capability, enforces timeouts and retries, and reports
 * every change as a domain event. Agents of every kind (demo, local, remote)
 * sit behind the same `AgentDriver` interface and report back through the
 * `report*` methods, which ignore stale reports about tasks an agent no
 * longer holds.
 */
import type { Agent, AgentKind, AgentResources, AgentStatus, Task } from '../../../shared/domain'
import { isTerminal } from '../../../shared/domain'
import type { LogLevel, UnsequencedEvent } from '../../../shared/events'
import type { ErrorCode } from '../../../shared/result'
import type { TaskSubmit } from '../../../shared/commands'
import { PriorityQueue } from './priority-queue'

export interface AgentDriver {
  /** Starts work on a task the coordinator gave this agent. */
  assign(task: Task): void
  /** Stops work on a task (cancel, timeout); no report is expected afterwards. */
  cancel(taskId: string): void
}

export interface AgentSpec {
  id: string
  name: string
  kind: AgentKind
  capabilities: string[]
  concurrency?: number
  /** Task kinds this agent can run; absent: any kind (remote and demo agents). Local agents run only `shell`. */
  kinds?: readonly string[]
}

export class CoordinatorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'CoordinatorError'
  }
}

export interface CoordinatorOptions {
  emit(event: UnsequencedEvent): void
  now?: () => number
  /** Finished tasks kept in memory; the oldest go first. */
  maxFinished?: number
  /** First retry delay; doubles per attempt up to `retryMaxMs`. */
  retryBaseMs?: number
  retryMaxMs?: number
}

interface AgentEntry {
  agent: Agent
  driver: AgentDriver
  kinds: ReadonlySet<string> | null
  paused: boolean
  fault: 'error' | 'offline' | null
}

export interface TaskQuery {
  status?: Task['status']
  agentId?: string
  limit?: number
}

export interface Totals {
  succeeded: number
  failed: number
  /** Tasks that reached any terminal state; `failed` counts failures and timeouts. */
  finished: number
}

export class Coordinator {
  private readonly agents = new Map<string, AgentEntry>()
  private readonly tasks = new Map<string, Task>()
  private readonly queue = new PriorityQueue()
  private readonly finishedOrder: string[] = []
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly order = new Map<string, number>()
  private dispatchPending = false
  private nextTaskNumber = 1
  private nextOrder = 0
  private stopped = false
  readonly totals: Totals = { succeeded: 0, failed: 0, finished: 0 }

  private readonly now: () => number
  private readonly maxFinished: number
  private readonly retryBaseMs: number
  private readonly retryMaxMs: number

  constructor(private readonly options: CoordinatorOptions) {
    this.now = options.now ?? Date.now
    this.maxFinished = options.maxFinished ?? 10_000
    this.retryBaseMs = options.retryBaseMs ?? 1000
    this.retryMaxMs = options.retryMaxMs ?? 60_000
  }

  // ---- agents -------------------------------------------------------------

  addAgent(spec: AgentSpec, driver: AgentDriver): Agent {
    if (this.agents.has(spec.id)) throw new CoordinatorError('conflict', `agent ${spec.id} already exists`)
    const now = this.now()
    const agent: Agent = {
      id: spec.id,
      name: spec.name,
      kind: spec.kind,
      capabilities: [...spec.capabilities],
      status: 'idle',
      concurrency: Math.max(1, spec.concurrency ?? 1),
      currentTaskIds: [],
      lastHeartbeat: now,
      joinedAt: now,
      counters: { done: 0, failed: 0 },
      resources: null,
    }
    const kinds = spec.kinds ? new Set(spec.kinds) : null
    this.agents.set(agent.id, { agent, driver, kinds, paused: false, fault: null })
    this.emitAgent(agent)
    this.scheduleDispatch()
    return copyAgent(agent)
  }

  /** Takes an agent out; the tasks it held go back to the queue. */
  removeAgent(agentId: string): void {
    const entry = this.agents.get(agentId)
    if (!entry) return
    this.requeueHeldBy(entry, `agent ${entry.agent.name} left`)
    this.agents.delete(agentId)
    this.options.emit({ type: 'agent:removed', at: this.now(), agentId })
  }

  /**
   * Gives a known agent a new driver: a remote agent that reconnects under its
   * id takes its place again (same entry, counters, pause state) instead of
   * leaving a ghost beside a new one. Tasks the old driver held go back to the
   * queue (the new connection knows nothing of them); name, capabilities and
   * concurrency follow the new spec; a fault (`offline`) is cleared.
   */
  reattachAgent(spec: AgentSpec, driver: AgentDriver): Agent {
    const entry = this.requireAgent(spec.id)
    if (entry.agent.kind !== spec.kind) {
      throw new CoordinatorError('conflict', `agent ${spec.id} exists as a ${entry.agent.kind} agent`)
    }
    this.requeueHeldBy(entry, `agent ${entry.agent.name} reconnected`)
    entry.driver = driver
    entry.agent.name = spec.name
    entry.agent.capabilities = [...spec.capabilities]
    entry.agent.concurrency = Math.max(1, spec.concurrency ?? 1)
    entry.agent.lastHeartbeat = this.now()
    entry.fault = null
    this.refreshAgent(entry, true)
    this.scheduleDispatch()
    return copyAgent(entry.agent)
  }

  pauseAgent(agentId: string): Agent {
    const entry = this.requireAgent(agentId)
    entry.paused = true
    this.refreshAgent(entry)
    return copyAgent(entry.agent)
  }

  resumeAgent(agentId: string): Agent {
    const entry = this.requireAgent(agentId)
    entry.paused = false
    this.refreshAgent(entry)
    this.scheduleDispatch()
    return copyAgent(entry.agent)
  }

  /** Marks an agent faulty (`error`, `offline`) or healthy again (`null`); a lost agent's tasks are requeued. */
  setAgentFault(agentId: string, fault: 'error' | 'offline' | null): void {
    const entry = this.requireAgent(agentId)
    if (entry.fault === fault) return
    entry.fault = fault
    if (fault !== null) this.requeueHeldBy(entry, `agent ${entry.agent.name} is ${fault}`)
    this.refreshAgent(entry)
    if (fault === null) this.scheduleDispatch()
  }

  heartbeat(agentId: string, resources?: AgentResources): void {
    const entry = this.agents.get(agentId)
    if (!entry) return
    entry.agent.lastHeartbeat = this.now()
    if (resources) entry.agent.resources = { ...entry.agent.resources, ...resources }
    this.emitAgent(entry.agent)
  }

  getAgent(agentId: string): Agent | undefined {
    const entry = this.agents.get(agentId)
    return entry && copyAgent(entry.agent)
  }

  listAgents(): Agent[] {
    return [...this.agents.values()].map((entry) => copyAgent(entry.agent))
  }

  // ---- tasks --------------------------------------------------------------

  submit(request: TaskSubmit): Task {
    const now = this.now()
    const task: Task = {
      id: this.newTaskId(now),
      name: request.name,
      kind: request.kind,
      payload: request.payload,
      priority: request.priority,
      capabilities: requiredCapabilities(request),
      status: 'queued',
      agentId: null,
      attempts: 0,
      maxRetries: request.maxRetries,
      timeoutMs: request.timeoutMs,
      progress: 0,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    }
    this.tasks.set(task.id, task)
    this.enqueue(task)
    this.emitTask(task)
    this.scheduleDispatch()
    return { ...task }
  }

  /**
   * Takes back tasks from storage after a restart: finished ones as history,
   * unfinished ones queued again (their agent is gone), oldest first.
   */
  restore(tasks: readonly Task[]): { requeued: number; finished: number } {
    let requeued = 0
    const finished = tasks
      .filter((task) => isTerminal(task.status))
      .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
    for (const task of finished.slice(-this.maxFinished)) {
      this.tasks.set(task.id, { ...task })
      this.finishedOrder.push(task.id)
    }
    for (const stored of tasks) {
      if (isTerminal(stored.status) || this.tasks.has(stored.id)) continue
      const task: Task = { ...stored, agentId: null, progress: 0, updatedAt: this.now() }
      if (stored.status !== 'queued') {
        task.status = 'queued'
        task.error = `requeued: the server restarted while the task was ${stored.status}`
      }
      this.tasks.set(task.id, task)
      this.enqueue(task)
      this.emitTask(task)
      requeued++
    }
    this.scheduleDispatch()
    return { requeued, finished: finished.length }
  }

  cancel(taskId: string): Task {
    const task = this.requireTask(taskId)
    if (isTerminal(task.status)) {
      throw new CoordinatorError('conflict', `task ${taskId} is already ${task.status}`)
    }
    this.queue.remove(taskId)
    this.clearTimer(taskId)
    const entry = task.agentId ? this.agents.get(task.agentId) : undefined
    if (entry) {
      this.release(entry, taskId)
      entry.driver.cancel(taskId)
    }
    this.finish(task, 'cancelled', { error: 'cancelled by operator' })
    return { ...task }
  }

  /** Runs a finished task again, as a new attempt. */
  retry(taskId: string): Task {
    const task = this.requireTask(taskId)
    if (!isTerminal(task.status) || task.status === 'succeeded') {
      throw new CoordinatorError(
        'conflict',
        `only failed, cancelled or timed-out tasks can be retried; ${taskId} is ${task.status}`,
      )
    }
    const index = this.finishedOrder.indexOf(taskId)
    if (index >= 0) this.finishedOrder.splice(index, 1)
    Object.assign(task, { status: 'queued', agentId: null, progress: 0, finishedAt: null, error: null, result: null })
    task.maxRetries = Math.max(task.maxRetries, task.attempts)
    task.updatedAt = this.now()
    this.enqueue(task)
    this.emitTask(task)
    this.scheduleDispatch()
    return { ...task }
  }

  getTask(taskId: string): Task | undefined {
    const task = this.tasks.get(taskId)
    return task && { ...task }
  }

  /** Newest first, filtered, with the count before the limit. */
  listTasks(query: TaskQuery = {}): { tasks: Task[]; total: number } {
    const matches: Task[] = []
    for (const task of this.tasks.values()) {
      if (query.status && task.status !== query.status) continue
      if (query.agentId && task.agentId !== query.agentId) continue
      matches.push(task)
    }
    matches.sort((a, b) => b.createdAt - a.createdAt || (b.id > a.id ? 1 : -1))
    return { tasks: matches.slice(0, query.limit ?? 100).map((task) => ({ ...task })), total: matches.length }
  }

  /** Active tasks and the most recently finished ones: what a viewer starts from. */
  snapshotTasks(finishedLimit = 500): Task[] {
    const active: Task[] = []
    for (const task of this.tasks.values()) if (!isTerminal(task.status)) active.push({ ...task })
    const finished = this.finishedOrder.slice(-finishedLimit).map((id) => ({ ...this.tasks.get(id)! }))
    return [...active, ...finished]
  }

  counts(): { queued: number; running: number; agents: Record<AgentStatus, number> } {
    const agents: Record<AgentStatus, number> = { idle: 0, busy: 0, paused: 0, error: 0, offline: 0 }
    for (const entry of this.agents.values()) agents[entry.agent.status]++
    let running = 0
    for (const task of this.tasks.values()) if (task.status === 'running' || task.status === 'assigned') running++
    return { queued: this.queue.size, running, agents }
  }

  // ---- reports from agents ------------------------------------------------

  reportStarted(agentId: string, taskId: string): void {
    const task = this.heldTask(agentId, taskId)
    if (!task || task.status !== 'assigned') return
    task.status = 'running'
    task.startedAt = this.now()
    task.updatedAt = task.startedAt
    this.emitTask(task)
  }

  reportProgress(agentId: string, taskId: string, progress: number, message?: string): void {
    const task = this.heldTask(agentId, taskId)
    if (!task) return
    if (task.status === 'assigned') this.reportStarted(agentId, taskId)
    task.progress = Math.min(1, Math.max(0, progress))
    task.updatedAt = this.now()
    this.emitTask(task)
    if (message) this.reportLog(agentId, taskId, 'info', message)
  }

  reportSucceeded(agentId: string, taskId: string, result?: unknown): void {
    const task = this.heldTask(agentId, taskId)
    if (!task) return
    const entry = this.agents.get(agentId)!
    entry.agent.counters.done++
    this.release(entry, taskId)
    this.clearTimer(taskId)
    this.finish(task, 'succeeded', { result: result ?? null, progress: 1 })
  }

  reportFailed(agentId: string, taskId: string, error: string): void {
    const task = this.heldTask(agentId, taskId)
    if (!task) return
    const entry = this.agents.get(agentId)!
    entry.agent.counters.failed++
    this.release(entry, taskId)
    this.clearTimer(taskId)
    this.failOrRetry(task, 'failed', error)
  }

  reportLog(agentId: string | null, taskId: string | null, level: LogLevel, message: string): void {
    if (taskId !== null && !this.tasks.has(taskId)) return
    this.options.emit({ type: 'task:log', at: this.now(), taskId: taskId ?? '', agentId, level, message })
  }

  // ---- lifecycle ------------------------------------------------------------

  /** Stops timers; the coordinator accepts no more work. */
  stop(): void {
    this.stopped = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  /** Assigns queued tasks to agents with free capacity, highest priority first. */
  dispatch(): void {
    this.dispatchPending = false
    if (this.stopped) return
    const free = [...this.agents.values()].filter((entry) => this.capacity(entry) > 0)
    if (free.length === 0 || this.queue.size === 0) return
    const skipped: { id: string; priority: number; order: number }[] = []
    while (free.length > 0) {
      const next = this.queue.pop()
      if (!next) break
      const task = this.tasks.get(next.id)!
      const index = free.findIndex((entry) => canRun(entry, task))
      if (index < 0) {
        skipped.push(next)
        // Bound the scan so a queue of unplaceable tasks cannot stall the loop.
        if (skipped.length >= 1000) break
        continue
      }
      const entry = free[index]!
      this.assign(task, entry)
      if (this.capacity(entry) === 0) free.splice(index, 1)
    }
    for (const entry of skipped) this.queue.push(entry.id, entry.priority, entry.order)
  }

  // ---- internals ----------------------------------------------------------

  private assign(task: Task, entry: AgentEntry): void {
    task.status = 'assigned'
    task.agentId = entry.agent.id
    task.attempts++
    task.progress = 0
    task.updatedAt = this.now()
    entry.agent.currentTaskIds.push(task.id)
    this.refreshAgent(entry)
    this.emitTask(task)
    if (task.timeoutMs !== null) {
      const attempt = task.attempts
      this.timers.set(
        task.id,
        setTimeout(() => this.timeOut(task.id, attempt), task.timeoutMs),
      )
    }
    entry.driver.assign({ ...task })
  }

  private timeOut(taskId: string, attempt: number): void {
    this.timers.delete(taskId)
    const task = this.tasks.get(taskId)
    if (!task || task.attempts !== attempt || isTerminal(task.status) || task.status === 'queued') return
    const entry = task.agentId ? this.agents.get(task.agentId) : undefined
    if (entry) {
      this.release(entry, taskId)
      entry.driver.cancel(taskId)
    }
    this.failOrRetry(task, 'timed_out', `timed out after ${task.timeoutMs} ms`)
  }

  private failOrRetry(task: Task, status: 'failed' | 'timed_out', error: string): void {
    if (task.attempts <= task.maxRetries) {
      const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (task.attempts - 1))
      Object.assign(task, { status: 'queued', agentId: null, progress: 0, error: `attempt ${task.attempts}: ${error}` })
      task.updatedAt = this.now()
      this.emitTask(task)
      this.timers.set(
        task.id,
        setTimeout(() => {
          this.timers.delete(task.id)
          if (task.status !== 'queued') return
          this.enqueue(task)
          this.scheduleDispatch()
        }, delay),
      )
      return
    }
    this.finish(task, status, { error })
  }

  private finish(task: Task, status: Task['status'], fields: Partial<Task>): void {
    Object.assign(task, fields, { status, finishedAt: this.now() })
    task.updatedAt = task.finishedAt!
    if (status === 'succeeded') this.totals.succeeded++
    else if (status !== 'cancelled') this.totals.failed++
    this.totals.finished++
    this.finishedOrder.push(task.id)
    this.emitTask(task)
    while (this.finishedOrder.length > this.maxFinished) {
      const old = this.finishedOrder.shift()!
      this.tasks.delete(old)
      this.order.delete(old)
    }
    this.scheduleDispatch()
  }

  private enqueue(task: Task): void {
    let order = this.order.get(task.id)
    if (order === undefined) {
      order = this.nextOrder++
      this.order.set(task.id, order)
    }
    this.queue.push(task.id, task.priority, order)
  }

  private requeueHeldBy(entry: AgentEntry, reason: string): void {
    for (const taskId of [...entry.agent.currentTaskIds]) {
      const task = this.tasks.get(taskId)
      this.release(entry, taskId)
      this.clearTimer(taskId)
      if (!task || isTerminal(task.status)) continue
      Object.assign(task, { status: 'queued', agentId: null, progress: 0, error: `requeued: ${reason}` })
      task.updatedAt = this.now()
      this.enqueue(task)
      this.emitTask(task)
    }
    this.scheduleDispatch()
  }

  private release(entry: AgentEntry, taskId: string): void {
    const index = entry.agent.currentTaskIds.indexOf(taskId)
    if (index >= 0) entry.agent.currentTaskIds.splice(index, 1)
    this.refreshAgent(entry, true)
  }

  private heldTask(agentId: string, taskId: string): Task | undefined {
    const task = this.tasks.get(taskId)
    if (!task || task.agentId !== agentId || isTerminal(task.status) || task.status === 'queued') return undefined
    return task
  }

  private capacity(entry: AgentEntry): number {
    if (entry.paused || entry.fault !== null) return 0
    return entry.agent.concurrency - entry.agent.currentTaskIds.length
  }

  private refreshAgent(entry: AgentEntry, force = false): void {
    const agent = entry.agent
    const status: AgentStatus =
      entry.fault ?? (entry.paused ? 'paused' : agent.currentTaskIds.length > 0 ? 'busy' : 'idle')
    if (status === agent.status && !force) return
    agent.status = status
    this.emitAgent(agent)
  }

  private clearTimer(taskId: string): void {
    const timer = this.timers.get(taskId)
    if (timer) clearTimeout(timer)
    this.timers.delete(taskId)
  }

  private scheduleDispatch(): void {
    if (this.dispatchPending || this.stopped) return
    this.dispatchPending = true
    queueMicrotask(() => this.dispatch())
  }

  /** Unique across restarts and roughly sortable by creation time. */
  private newTaskId(now: number): string {
    const counter = (this.nextTaskNumber++ % 1296).toString(36).padStart(2, '0')
    return `t-${now.toString(36)}${counter}-${Math.random().toString(36).slice(2, 6)}`
  }

  private requireAgent(agentId: string): AgentEntry {
    const entry = this.agents.get(agentId)
    if (!entry) throw new CoordinatorError('not_found', `no agent ${agentId}`)
    return entry
  }

  private requireTask(taskId: string): Task {
    const task = this.tasks.get(taskId)
    if (!task) throw new CoordinatorError('not_found', `no task ${taskId}`)
    return task
  }

  private emitTask(task: Task): void {
    this.options.emit({ type: 'task:status', at: task.updatedAt, task: { ...task } })
  }

  private emitAgent(agent: Agent): void {
    this.options.emit({ type: 'agent:status', at: this.now(), agent: copyAgent(agent) })
  }
}

function covers(have: readonly string[], need: readonly string[]): boolean {
  return need.every((capability) => have.includes(capability))
}

function canRun(entry: AgentEntry, task: Task): boolean {
  return (entry.kinds === null || entry.kinds.has(task.kind)) && covers(entry.agent.capabilities, task.capabilities)
}

/**
 * Kinds that run real commands on an agent's machine: a task of such a kind
 * requires the capability of the same name, so it goes only to agents that
 * declare they can run it (local agents, or remote ones that say `shell`),
 * never to demo agents or to remote agents that did not ask for it.
 */
const KINDS_REQUIRING_THEIR_CAPABILITY: ReadonlySet<string> = new Set(['shell'])

/** The task's capabilities, plus the one its kind requires; stored on the task, so the rule shows in the API. */
export function requiredCapabilities(request: Pick<TaskSubmit, 'kind' | 'capabilities'>): string[] {
  const needed = [...new Set(request.capabilities)]
  if (KINDS_REQUIRING_THEIR_CAPABILITY.has(request.kind) && !needed.includes(request.kind)) needed.push(request.kind)
  return needed
}

function copyAgent(agent: Agent): Agent {
  return {
    ...agent,
    capabilities: [...agent.capabilities],
    currentTaskIds: [...agent.currentTaskIds],
    counters: { ...agent.counters },
    resources: agent.resources && { ...agent.resources },
  }
}
