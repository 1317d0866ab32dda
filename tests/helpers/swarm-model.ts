/**
 * A tiny swarm for property tests: agents and tasks held whole, changed by
 * random steps the way the coordinator changes them (status, heartbeats with
 * some resource figures, counters, renames, removals and rejoins; tasks
 * created, assigned, started, progressing, ending, requeued and retried after
 * they ended), each step announced as the `SwarmChange` the coordinator would
 * emit; and what operators set beside them, kinds' limits and schedules,
 * announced whole. The truth a viewer must converge to is `summaries()`,
 * `agents`, `kinds` and `scheduleSummaries()`.
 */
import type { Agent, Task, TaskSummary } from '../../src/shared/domain'
import type { SwarmChange } from '../../src/shared/events'
import { isDefaultLimits, type KindState } from '../../src/shared/kinds'
import { summarizeSchedule, type Schedule, type ScheduleSummary } from '../../src/shared/schedules'
import { isTerminal } from '../../src/shared/statuses'
import { summarize } from '../../src/shared/changes'
import { sample } from './factories'

export type ModelStep =
  | { kind: 'agent'; index: number; what: number; value: number }
  | { kind: 'task'; index: number; what: number; value: number }
  | { kind: 'log' }
  | { kind: 'metrics' }
  | { kind: 'kind' | 'schedule'; index: number; what: number; value: number }

const ENDS = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const

export class SwarmModel {
  readonly agents = new Map<string, Agent>()
  readonly tasks = new Map<string, Task>()
  /** The kinds with limits set, as a viewer holds them. */
  readonly kinds = new Map<string, KindState>()
  readonly schedules = new Map<string, Schedule>()
  /** Each end and retry of a task, in order: what a viewer's bounded finished list follows. */
  private readonly ends: { id: string; ended: boolean }[] = []
  now = 1_700_000_000_000

  /** Applies one step; the change to announce, or null when the step did nothing. */
  step(step: ModelStep): SwarmChange | null {
    this.now += 1 + ('value' in step ? step.value % 7 : 0)
    switch (step.kind) {
      case 'agent':
        return this.agentStep(`a${step.index}`, step.what, step.value)
      case 'task':
        return this.taskStep(`t${step.index}`, step.what, step.value)
      case 'kind':
        return this.kindStep(`k${step.index}`, step.what, step.value)
      case 'schedule':
        return this.scheduleStep(`s${step.index}`, step.what, step.value)
      case 'log':
        return { type: 'task:log', at: this.now, taskId: 't0', agentId: null, level: 'info', message: 'x' }
      case 'metrics':
        return {
          type: 'metrics',
          at: this.now,
          sample: sample(this.now),
        }
    }
  }

  /**
   * What a viewer keeping `finishedLimit` finished tasks must hold: every active task, and the finished ones its
   * bound kept. The bound drops the oldest finished task when one more finishes, and a retried task leaves the
   * list; a slot so freed is not filled again by one dropped before (the viewer no longer has it).
   */
  summaries(finishedLimit: number): Map<string, TaskSummary> {
    const kept = new Set<string>()
    for (const { id, ended } of this.ends) {
      kept.delete(id)
      if (!ended) continue
      kept.add(id)
      if (kept.size > finishedLimit) kept.delete(kept.values().next().value as string)
    }
    const out = new Map<string, TaskSummary>()
    for (const task of this.tasks.values()) {
      if (!isTerminal(task.status) || kept.has(task.id)) out.set(task.id, summarize(task))
    }
    return out
  }

  scheduleSummaries(): Map<string, ScheduleSummary> {
    return new Map([...this.schedules].map(([id, schedule]) => [id, summarizeSchedule(schedule)]))
  }

  /** New limits (paused or not, each limit or none), a full rate window, or back to the defaults. */
  private kindStep(kind: string, what: number, value: number): SwarmChange {
    const maxPerMinute = value % 3 === 0 ? null : 1 + (value % 50)
    const state: KindState = {
      kind,
      paused: what % 2 === 1,
      maxRunning: what % 3 === 0 ? null : 1 + (what % 4),
      maxPerMinute,
      rateHeldUntil: maxPerMinute !== null && value % 2 === 0 ? this.now + 60_000 : null,
    }
    if (isDefaultLimits(state)) this.kinds.delete(kind)
    else this.kinds.set(kind, state)
    return { type: 'kind:limits', at: this.now, ...state }
  }

  /** Created (with a workflow to run, which viewers are not sent), paused or resumed, run, moved on, or deleted. */
  private scheduleStep(id: string, what: number, value: number): SwarmChange {
    const held = this.schedules.get(id)
    if (!held) {
      const schedule: Schedule = {
        id,
        name: `schedule ${value}`,
        cron: '*/5 * * * *',
        timezone: 'UTC',
        overlap: 'skip',
        target: 'workflow',
        task: null,
        workflow: { name: 'nightly', tasks: [{ key: 'a', name: 'a', kind: 'demo', payload: { big: 'x'.repeat(50) } }] },
        paused: false,
        createdBy: 'operator',
        createdAt: this.now,
        nextRunAt: this.now + 300_000,
        nextRuns: [this.now + 300_000],
        lastRun: null,
        pending: null,
      } as Schedule
      this.schedules.set(id, schedule)
      return { type: 'schedule', at: this.now, schedule }
    }
    if (what % 4 === 0) {
      this.schedules.delete(id)
      return { type: 'schedule:removed', at: this.now, scheduleId: id }
    }
    const schedule: Schedule = { ...held }
    if (what % 4 === 1) schedule.paused = !schedule.paused
    else if (what % 4 === 2) {
      const outcome = (['started', 'queued', 'skipped', 'failed'] as const)[value % 4]!
      schedule.lastRun = { at: this.now, trigger: 'cron', outcome, reason: null, taskId: null, workflowId: null }
    } else schedule.nextRunAt = this.now + value
    this.schedules.set(id, schedule)
    return { type: 'schedule', at: this.now, schedule }
  }

  private agentStep(id: string, what: number, value: number): SwarmChange | null {
    const held = this.agents.get(id)
    if (!held) {
      const agent: Agent = {
        id,
        name: id,
        kind: 'remote',
        capabilities: ['cpu'],
        kinds: null,
        status: 'idle',
        concurrency: 1,
        currentTaskIds: [],
        lastHeartbeat: this.now,
        joinedAt: this.now,
        counters: { done: 0, failed: 0 },
        resources: null,
        offline: null,
      }
      return this.putAgent(agent)
    }
    const agent: Agent = { ...held, counters: { ...held.counters }, currentTaskIds: [...held.currentTaskIds] }
    switch (what % 7) {
      case 0:
        agent.status = (['idle', 'busy', 'paused', 'error', 'offline'] as const)[value % 5]!
        // How it went offline, and back to null once it is anything else.
        agent.offline =
          agent.status === 'offline' ? { at: this.now, cause: value % 2 ? 'dropped' : 'silent', detail: 'gone' } : null
        break
      case 1:
        // A heartbeat with some figures: one, the other, both, or none.
        agent.lastHeartbeat = this.now
        if (value % 4 !== 3) agent.resources = { ...agent.resources }
        if (value % 4 === 0 || value % 4 === 2) agent.resources!.cpu = value % 100
        if (value % 4 === 1 || value % 4 === 2) agent.resources!.memoryMb = 100 + (value % 50)
        break
      case 2:
        agent.currentTaskIds = value % 2 ? [`t${value % 7}`] : []
        break
      case 3:
        agent.counters[value % 2 ? 'done' : 'failed']++
        break
      case 4:
        // A rejoin under its id: new name, capabilities and concurrency.
        Object.assign(agent, { name: `${id}-${value % 3}`, capabilities: value % 2 ? ['cpu', 'io'] : ['cpu'] })
        agent.concurrency = 1 + (value % 3)
        break
      case 5:
        this.agents.delete(id)
        return { type: 'agent:removed', at: this.now, agentId: id }
      default:
        return null
    }
    return this.putAgent(agent)
  }

  private putAgent(agent: Agent): SwarmChange {
    this.agents.set(agent.id, agent)
    return { type: 'agent:status', at: this.now, agent }
  }

  private taskStep(id: string, what: number, value: number): SwarmChange | null {
    const held = this.tasks.get(id)
    if (!held) {
      const task: Task = {
        id,
        name: `task ${id}`,
        kind: 'demo',
        payload: { size: value },
        priority: value % 3,
        capabilities: [],
        status: 'queued',
        agentId: null,
        attempts: 0,
        requeues: 0,
        maxRetries: 1,
        timeoutMs: null,
        progress: 0,
        createdAt: this.now,
        updatedAt: this.now,
        startedAt: null,
        finishedAt: null,
        result: null,
        error: null,
      }
      return this.putTask(task)
    }
    const task: Task = { ...held, updatedAt: this.now }
    const agentId = `a${value % 5}`
    switch (task.status) {
      case 'queued':
        Object.assign(task, { status: 'assigned', agentId, attempts: task.attempts + 1, progress: 0 })
        break
      case 'assigned':
        if (what % 3 === 2) requeue(task)
        else Object.assign(task, { status: 'running', startedAt: this.now })
        break
      case 'running':
        if (what % 4 === 0) Object.assign(task, { progress: (value % 10) / 10 })
        else if (what % 4 === 1) requeue(task)
        else {
          const status = ENDS[value % 4]!
          Object.assign(task, { status, finishedAt: this.now, result: status === 'succeeded' ? { n: value } : null })
          if (status === 'succeeded') task.progress = 1
          else task.error = `${status} at ${value}`
        }
        break
      default:
        // Ended: retried (a new attempt, maybe long after a viewer let it go), or left alone.
        if (what % 2) return null
        Object.assign(task, {
          status: 'queued',
          agentId: null,
          progress: 0,
          finishedAt: null,
          error: null,
          result: null,
        })
        task.maxRetries = Math.max(task.maxRetries, task.attempts)
        this.ends.push({ id, ended: false })
    }
    if (isTerminal(task.status)) this.ends.push({ id, ended: true })
    return this.putTask(task)
  }

  private putTask(task: Task): SwarmChange {
    this.tasks.set(task.id, task)
    return { type: 'task:status', at: task.updatedAt, task: { ...task } }
  }
}

function requeue(task: Task): void {
  Object.assign(task, { status: 'queued', agentId: null, progress: 0, error: `requeued: agent left` })
  task.requeues++
}
