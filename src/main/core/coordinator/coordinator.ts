/**
 * The coordinator: owns agents and tasks, matches queued tasks to idle agents
 * by priority and capability, enforces timeouts and retries, and reports
 * every change as a domain event. Agents of every kind (demo, local, remote)
 * sit behind the same `AgentDriver` interface and report back through the
 * `report*` methods, which ignore stale reports about tasks an agent no
 * longer holds.
 *
 * This class is the one way in; it composes the parts (README.md):
 * `AgentRoster` (agents and their status), `TaskBook` and `TaskQueue` (tasks
 * and the waiting line), `Scheduler` (which task goes to which agent),
 * `Attempts` (a task on an agent until it ends) and `restoreTasks`.
 */
import type { Agent, AgentOffline, AgentResources, AgentStatus, Task } from '../../../shared/domain'
import type { LogLevel, SwarmChange } from '../../../shared/events'
import type { TaskSubmit, WorkflowSubmit } from '../../../shared/commands'
import type { TaskRefSummary } from '../../../shared/domain'
import { describeHold, type KindInfo, type KindLimits, type KindState } from '../../../shared/kinds'
import type { WorkflowActed, WorkflowDetail, WorkflowSubmitted, WorkflowSummary } from '../../../shared/workflows'
import { DEFAULT_ROUTING_POLICY, type RoutingPolicy } from '../../../shared/routing'
import { AGENT_HEARTBEAT_TIMEOUT_MS } from '../../../shared/agent-messages'
import { AgentRoster, copyAgent, type AgentEntry } from './agent-roster'
import { Attempts, type AttemptsOptions } from './attempts'
import { Dependencies } from './dependencies'
import { KindLimiter } from './kind-limits'
import { kindInfo, runningByKind } from './kinds'
import { CoordinatorError } from './errors'
import { Reclaims } from './reclaims'
import { restoreTasks, type Restored } from './restore'
import { Scheduler } from './scheduler'
import { TaskBook } from './task-book'
import { TaskQueue } from './task-queue'
import type { AgentDriver, AgentSpec, TaskQuery, Totals } from './types'
import { cancelWorkflow, retryWorkflow, submitWorkflow, type WorkflowIds, type WorkflowParts } from './workflow-actions'
import { WorkflowIndex } from './workflow-index'

export type { AgentDriver, AgentSpec, TaskQuery, Totals } from './types'
export { CoordinatorError } from './errors'
export { requiredCapabilities } from './capabilities'

export interface CoordinatorOptions {
  emit(event: SwarmChange): void
  now?: () => number
  /** Finished tasks kept in memory; the oldest go first. */
  maxFinished?: number
  /** First retry delay; doubles per attempt up to `retryMaxMs`. */
  retryBaseMs?: number
  retryMaxMs?: number
  /** Told when an agent's driver throws on assign or cancel (the task is failed or released regardless). */
  driverFailed?: AttemptsOptions['driverFailed']
  /** Who may run `shell` tasks beyond the local agents (default: nobody else). */
  routing?: RoutingPolicy
  /** How long a restored task waits for the agent that was running it (default: the heartbeat timeout, 15 s). */
  reclaimGraceMs?: number
}

export interface SubmitOptions {
  /**
   * The server's own pretend work (the demo swarm, the bench's injector): never written to the history.
   * Decided by the code that submits, never by what a client sends.
   */
  ephemeral?: boolean
  /**
   * The task's id, when the server's own code needs a stable one (a swarm file's task, known again at the next
   * start); otherwise a new one. Never taken from what a client sends. An id in use is refused (`conflict`).
   */
  id?: string
}

export class Coordinator {
  readonly totals: Totals
  private readonly roster: AgentRoster
  private readonly queue: TaskQueue
  private readonly book: TaskBook
  private readonly scheduler: Scheduler
  private readonly attempts: Attempts
  private readonly dependencies: Dependencies
  private readonly workflows: WorkflowIndex
  private readonly workflowParts: WorkflowParts
  private readonly limits: KindLimiter
  private readonly reclaims: Reclaims
  private readonly reclaimGraceMs: number
  private readonly now: () => number

  constructor(options: CoordinatorOptions) {
    const emit = (event: SwarmChange) => options.emit(event)
    const now = options.now ?? Date.now
    const queue = new TaskQueue()
    this.now = now
    this.queue = queue
    this.roster = new AgentRoster(emit, now)
    this.book = new TaskBook(queue, { emit, now, maxFinished: options.maxFinished ?? 10_000 })
    this.totals = this.book.totals
    this.dependencies = new Dependencies(this.book, queue, () => this.scheduler.schedule())
    this.workflows = new WorkflowIndex(this.book)
    this.limits = new KindLimiter({
      now,
      running: () => runningByKind(this.roster, this.book),
      schedule: () => this.scheduler.schedule(),
      // Viewers hold each kind's limits and rate hold (`kind:limits`); the counts they take from the tasks.
      changed: (state) => emit({ type: 'kind:limits', at: now(), ...state }),
    })
    this.reclaims = new Reclaims(this.book, () => this.scheduler.schedule())
    this.reclaimGraceMs = options.reclaimGraceMs ?? AGENT_HEARTBEAT_TIMEOUT_MS
    this.book.watch(this.dependencies)
    this.book.watch(this.workflows)
    this.book.watch(this.reclaims)
    this.workflowParts = {
      book: this.book,
      index: this.workflows,
      now,
      cancel: (taskId, reason) => this.attempts.cancel(taskId, reason),
      retry: (taskId) => this.retry(taskId),
    }
    // The scheduler starts attempts and every attempt's end asks for a pass: the two know each other only as callbacks.
    this.scheduler = new Scheduler(
      this.roster,
      queue,
      this.book,
      (task, entry) => this.attempts.start(task, entry),
      options.routing ?? DEFAULT_ROUTING_POLICY,
      this.limits,
    )
    this.attempts = new Attempts({
      roster: this.roster,
      book: this.book,
      queue,
      emit,
      now,
      schedule: () => this.scheduler.schedule(),
      retryBaseMs: options.retryBaseMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 60_000,
      driverFailed: options.driverFailed,
    })
  }

  // ---- agents -------------------------------------------------------------

  addAgent(spec: AgentSpec, driver: AgentDriver): Agent {
    const entry = this.roster.add(spec, driver)
    this.resumeReclaimed(entry, spec.running)
    this.scheduler.schedule()
    return copyAgent(entry.agent)
  }

  /** Takes an agent out; the tasks it held go back to the queue. */
  removeAgent(agentId: string): void {
    const entry = this.roster.get(agentId)
    if (!entry) return
    this.attempts.requeueHeldBy(entry, `agent ${entry.agent.name} left`)
    this.roster.remove(agentId)
  }

  /**
   * Gives a known agent a new driver: a remote agent that reconnects under its
   * id takes its place again (same entry, counters, pause state) instead of
   * leaving a ghost beside a new one. Tasks the old driver held go back to the
   * queue (the new connection knows nothing of them); name, capabilities and
   * concurrency follow the new spec; a fault (`offline`) is cleared.
   */
  reattachAgent(spec: AgentSpec, driver: AgentDriver): Agent {
    const entry = this.roster.require(spec.id)
    if (entry.agent.kind !== spec.kind) {
      throw new CoordinatorError('conflict', `agent ${spec.id} exists as a ${entry.agent.kind} agent`)
    }
    // What it says it still runs stays its own; the rest goes back to the queue.
    this.attempts.requeueHeldBy(entry, `agent ${entry.agent.name} reconnected`, spec.running)
    this.roster.rebind(entry, spec, driver)
    this.resumeReclaimed(entry, spec.running)
    this.scheduler.schedule()
    return copyAgent(entry.agent)
  }

  pauseAgent(agentId: string): Agent {
    const entry = this.roster.require(agentId)
    entry.paused = true
    this.roster.refresh(entry)
    return copyAgent(entry.agent)
  }

  resumeAgent(agentId: string): Agent {
    const entry = this.roster.require(agentId)
    entry.paused = false
    this.roster.refresh(entry)
    this.scheduler.schedule()
    return copyAgent(entry.agent)
  }

  /**
   * Marks an agent faulty (`error`, `offline`) or healthy again (`null`); a lost agent's tasks are requeued.
   * `offline` says how it went (absent: it fell silent), for the agent's details and the alert.
   */
  setAgentFault(agentId: string, fault: 'error' | 'offline' | null, offline?: Omit<AgentOffline, 'at'>): void {
    const entry = this.roster.require(agentId)
    if (entry.fault === fault) return
    // The fault is set before the requeue, so the releases already announce the faulty status.
    this.roster.setFault(entry, fault, offline)
    if (fault !== null) this.attempts.requeueHeldBy(entry, `agent ${entry.agent.name} is ${fault}`)
    this.roster.refresh(entry)
    if (fault === null) this.scheduler.schedule()
  }

  heartbeat(agentId: string, resources?: AgentResources): void {
    this.roster.heartbeat(agentId, resources)
  }

  getAgent(agentId: string): Agent | undefined {
    const entry = this.roster.get(agentId)
    return entry && copyAgent(entry.agent)
  }

  listAgents(): Agent[] {
    return this.roster.list().map((entry) => copyAgent(entry.agent))
  }

  // ---- tasks --------------------------------------------------------------

  /** Queues a new task; with `options.id`, under that id (refused with `conflict` while a task has it). */
  submit(request: TaskSubmit, options: SubmitOptions = {}): Task {
    this.dependencies.check(request.dependsOn)
    const task = this.book.create(request, options.ephemeral === true, options.id)
    this.scheduler.schedule()
    return { ...task }
  }

  /**
   * Takes back tasks from storage after a restart: finished ones as history,
   * unfinished ones queued again (their agent is gone), oldest first.
   */
  restore(tasks: readonly Task[]): Restored {
    const restored = restoreTasks(this.book, tasks, this.now, this.reclaims)
    this.dependencies.settleRestored()
    this.reclaims.start(this.reclaimGraceMs)
    this.scheduler.schedule()
    return restored
  }

  /** Gives an agent back the restored tasks it says it still runs (reclaims.ts). */
  private resumeReclaimed(entry: AgentEntry, running: readonly string[] | undefined): void {
    if (!running?.length) return
    for (const { task, status } of this.reclaims.claim(entry.agent.id, running)) {
      this.attempts.resume(task, entry, status)
    }
  }

  /** `reason` goes on the task as its error; default "cancelled by operator". */
  cancel(taskId: string, reason?: string): Task {
    return { ...this.attempts.cancel(taskId, reason) }
  }

  /**
   * Runs a finished task again, as a new attempt; the tasks its end cancelled wait for it again. Refused while one
   * of its own dependencies has failed for good: that one is to be retried first.
   */
  retry(taskId: string): Task {
    const blocker = this.dependencies.blocker(this.book.require(taskId))
    if (blocker) {
      throw new CoordinatorError(
        'conflict',
        `task ${taskId} depends on ${blocker.id} (${blocker.name}), which is ${blocker.status}; retry that one first`,
      )
    }
    const task = this.book.reopen(taskId)
    this.dependencies.reopened(task)
    this.scheduler.schedule()
    return { ...task }
  }

  /** The dependencies a task still waits for; empty when it waits for nothing. */
  waitingFor(taskId: string): TaskRefSummary[] {
    return this.dependencies.waitingFor(taskId)
  }

  // ---- kinds ----------------------------------------------------------------

  /** A kind's limits (the defaults when none are set). */
  kindLimits(kind: string): KindLimits {
    return this.limits.get(kind)
  }

  /** Every kind with limits set. */
  configuredKinds(): Map<string, KindLimits> {
    return this.limits.configured()
  }

  /** Every kind with limits set as viewers hold it (the snapshot's `kinds`), by name. */
  kindStates(): KindState[] {
    return [...this.limits.configured().keys()].sort().map((kind) => this.limits.state(kind))
  }

  /** Replaces a kind's limits (kept by the caller in storage first); a pass follows, the kind may have room now. */
  setKindLimits(kind: string, limits: KindLimits): KindInfo {
    this.limits.set(kind, limits)
    this.scheduler.schedule()
    return kindInfo(this.book, this.limits, kind)[0]!
  }

  /** Every kind seen in memory or with limits set, by name, with its counts and what holds it. */
  listKinds(): KindInfo[] {
    return kindInfo(this.book, this.limits)
  }

  /** What holds a queued task in the line by its kind's limits, as a sentence; null: nothing does. */
  heldBy(taskId: string): string | null {
    const task = this.book.get(taskId)
    if (!task || task.status !== 'queued' || !this.queue.has(taskId)) return null
    const hold = this.limits.hold(task.kind)
    return hold && describeHold(task.kind, hold)
  }

  // ---- workflows ------------------------------------------------------------

  /** Queues a checked graph as one workflow, all of it at once (`workflow-actions.ts`); `ids`: the ones to give it. */
  submitWorkflow(request: WorkflowSubmit, ids?: WorkflowIds): WorkflowSubmitted {
    const submitted = submitWorkflow(this.workflowParts, request, ids)
    this.scheduler.schedule()
    return submitted
  }

  listWorkflows(limit: number): { workflows: WorkflowSummary[]; total: number } {
    return this.workflows.list(limit)
  }

  getWorkflow(workflowId: string): WorkflowDetail | undefined {
    return this.workflows.detail(workflowId)
  }

  /** Cancels every task of a workflow that has not ended. */
  cancelWorkflow(workflowId: string, reason = 'workflow cancelled by operator'): WorkflowActed {
    return cancelWorkflow(this.workflowParts, workflowId, reason)
  }

  /** Retries every task of a workflow that failed, timed out or was cancelled, each after its dependencies. */
  retryWorkflow(workflowId: string): WorkflowActed {
    return retryWorkflow(this.workflowParts, workflowId)
  }

  /** Whether a task is the server's own pretend work, kept out of the history (`SubmitOptions.ephemeral`). */
  isEphemeral(taskId: string): boolean {
    return this.book.isEphemeral(taskId)
  }

  getTask(taskId: string): Task | undefined {
    const task = this.book.get(taskId)
    return task && { ...task }
  }

  /** Newest first, filtered, with the count before the limit. */
  listTasks(query: TaskQuery = {}): { tasks: Task[]; total: number } {
    return this.book.list(query)
  }

  /** Active tasks and the most recently finished ones: what a viewer starts from. */
  snapshotTasks(finishedLimit = 500): Task[] {
    return this.book.snapshot(finishedLimit)
  }

  counts(): { queued: number; running: number; agents: Record<AgentStatus, number> } {
    const agents = this.roster.countByStatus()
    return { queued: this.queue.size, running: this.book.countRunning(), agents }
  }

  // ---- reports from agents ------------------------------------------------

  reportStarted(agentId: string, taskId: string): void {
    this.attempts.reportStarted(agentId, taskId)
  }

  reportProgress(agentId: string, taskId: string, progress: number, message?: string): void {
    this.attempts.reportProgress(agentId, taskId, progress, message)
  }

  reportSucceeded(agentId: string, taskId: string, result?: unknown): void {
    this.attempts.reportSucceeded(agentId, taskId, result)
  }

  reportFailed(agentId: string, taskId: string, error: string): void {
    this.attempts.reportFailed(agentId, taskId, error)
  }

  reportLog(agentId: string | null, taskId: string | null, level: LogLevel, message: string): void {
    this.attempts.reportLog(agentId, taskId, level, message)
  }

  // ---- lifecycle ------------------------------------------------------------

  /** Stops timers; the coordinator accepts no more work. */
  stop(): void {
    this.reclaims.stop()
    this.scheduler.stop()
    this.attempts.stop()
    this.limits.stop()
  }

  /** Assigns queued tasks to agents with free capacity, highest priority first. */
  dispatch(): void {
    this.scheduler.dispatch()
  }
}
