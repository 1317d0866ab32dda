/**
 * The schedules: kept in memory (at most `SCHEDULE_LIMITS.schedules`),
 * written through to the history database (schedule-store.ts), fired by a
 * one-second tick against an injected clock, so tests drive time by hand.
 *
 * Firing: each schedule knows its next run time; a tick that finds it due
 * runs it once and moves it to the next time after now, so a late tick
 * (a suspended machine) makes one run, not one per missed time.
 *
 * Overlap, when a run is due while the previous run's task or workflow has
 * not ended: `skip` records a skipped run; `queue` keeps one run waiting
 * (`pending`) and starts it when the previous one ends, whatever its outcome,
 * and skips any run due while one waits; `allow` starts it regardless.
 *
 * Restart: `load` finds the next run time each schedule had; one that passed
 * while the server was down makes one catch-up run at start (none for a
 * paused schedule), then the cadence goes on from now.
 */
import { randomUUID } from 'node:crypto'
import { SCHEDULE_LIMITS, type Schedule, type ScheduleRun, type ScheduleTrigger } from '../../../shared/schedules'
import { CoordinatorError } from '../coordinator/errors'
import type { Logger } from '../logger'
import { isCronProblem, parseCron, type CronSpec } from './cron'
import type { ScheduleCreate } from './schedule-input'
import { unfinished, type ScheduleRunner } from './schedule-runs'
import type { ScheduleStore, StoredSchedule } from '../storage/schedule-store'

export interface ScheduleBookOptions {
  store: ScheduleStore
  runner: ScheduleRunner
  logger: Pick<Logger, 'warn' | 'info'>
  /** Epoch ms now; tests pass a fake clock. */
  now?: () => number
  /** How often due runs are looked for, ms (default 1000). */
  tickMs?: number
  /** Told each change viewers hold (`schedule`, `schedule:removed` events): the pipeline's `announce`. */
  announce?(change: ScheduleChange): void
}

/** A schedule's change as the pipeline takes it: the schedule whole (slim.ts leaves out what its runs submit). */
export type ScheduleChange =
  { type: 'schedule'; at: number; schedule: Schedule } | { type: 'schedule:removed'; at: number; scheduleId: string }

interface Entry {
  stored: StoredSchedule
  spec: CronSpec
  /** A run is being submitted: it counts as unfinished for the overlap rule. */
  submitting: boolean
}

export class ScheduleBook {
  private readonly entries = new Map<string, Entry>()
  private readonly now: () => number
  private timer: ReturnType<typeof setInterval> | null = null
  /** Creations being stored: they count towards the limit. */
  private creating = 0
  /** Schedules that missed a run while the server was down, run once by `start`. */
  private catchUps: string[] = []

  constructor(private readonly options: ScheduleBookOptions) {
    this.now = options.now ?? Date.now
  }

  /** Reads the stored schedules and notes which missed a run while the server was down. */
  async load(): Promise<void> {
    const now = this.now()
    for (const stored of await this.options.store.schedules()) {
      const spec = parseCron(stored.cron, stored.timezone, now)
      if (isCronProblem(spec)) {
        this.options.logger.warn(
          { schedule: stored.id, problem: spec.message },
          'stored schedule left alone: its cron no longer parses',
        )
        continue
      }
      if (!stored.paused && stored.nextRunAt !== null && stored.nextRunAt <= now) this.catchUps.push(stored.id)
      const entry: Entry = { stored, spec, submitting: false }
      if (!stored.paused) entry.stored = { ...stored, nextRunAt: spec.next(now, 1)[0] ?? null }
      this.entries.set(stored.id, entry)
    }
  }

  /** Makes the catch-up runs and ticks every `tickMs` from now on; resolves once the catch-up runs are answered. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.tick().catch(this.failed), this.options.tickMs ?? 1000)
    this.timer.unref()
    const catchUps = this.catchUps.flatMap((id) => this.entries.get(id) ?? [])
    this.catchUps = []
    await Promise.all(catchUps.map((entry) => this.fire(entry, 'catch-up'))).catch(this.failed)
  }

  /** A run that threw (a bug: refusals are answers) is logged; the tick goes on. */
  private readonly failed = (error: unknown): void => {
    this.options.logger.warn({ error: (error as Error).message }, 'schedule run failed')
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Runs what is due and starts waiting runs whose previous run ended; resolves once their submissions are answered. */
  async tick(): Promise<void> {
    const now = this.now()
    const runs: Promise<void>[] = []
    for (const entry of this.entries.values()) {
      const { stored } = entry
      if (stored.pending && !entry.submitting && !this.busy(entry)) runs.push(this.startPending(entry))
      if (stored.paused || stored.nextRunAt === null || stored.nextRunAt > now) continue
      // Moved on before the run is submitted, so the next tick does not fire it again.
      entry.stored = { ...stored, nextRunAt: entry.spec.next(now, 1)[0] ?? null }
      runs.push(this.fire(entry, 'cron'))
    }
    await Promise.all(runs)
  }

  /** Every schedule, by name. */
  list(): Schedule[] {
    const entries = [...this.entries.values()].sort((a, b) => a.stored.name.localeCompare(b.stored.name))
    return entries.map((entry) => this.answer(entry))
  }

  get(id: string): Schedule {
    return this.answer(this.entry(id))
  }

  async create(input: ScheduleCreate, createdBy: string): Promise<Schedule> {
    if (this.entries.size + this.creating >= SCHEDULE_LIMITS.schedules) {
      throw new CoordinatorError(
        'conflict',
        `${SCHEDULE_LIMITS.schedules} schedules exist, the most a server keeps: delete one first`,
      )
    }
    const now = this.now()
    const spec = parseCron(input.cron, input.timezone, now)
    if (isCronProblem(spec)) throw new CoordinatorError('bad_request', `${spec.field}: ${spec.message}`)
    const stored: StoredSchedule = {
      id: randomUUID(),
      name: input.name,
      cron: input.cron,
      timezone: spec.timezone,
      overlap: input.overlap,
      target: input.task !== undefined ? 'task' : 'workflow',
      task: (input.task as StoredSchedule['task']) ?? null,
      workflow: (input.workflow as StoredSchedule['workflow']) ?? null,
      paused: false,
      createdBy,
      createdAt: now,
      nextRunAt: spec.next(now, 1)[0] ?? null,
      lastRun: null,
      pending: null,
    }
    this.creating++
    try {
      await this.save(stored)
    } finally {
      this.creating--
    }
    const entry: Entry = { stored, spec, submitting: false }
    this.entries.set(stored.id, entry)
    return this.announce(entry)
  }

  /** Paused: no run is made, none is caught up; a waiting run is dropped. */
  async pause(id: string): Promise<Schedule> {
    const entry = this.entry(id)
    return this.update(entry, { ...entry.stored, paused: true, nextRunAt: null, pending: null })
  }

  /** Resumed: the cadence goes on from now, with no run for the times it was paused. */
  async resume(id: string): Promise<Schedule> {
    const entry = this.entry(id)
    return this.update(entry, { ...entry.stored, paused: false, nextRunAt: entry.spec.next(this.now(), 1)[0] ?? null })
  }

  async delete(id: string): Promise<Schedule> {
    const entry = this.entry(id)
    const answer = this.answer(entry)
    try {
      await this.options.store.deleteSchedule(id)
    } catch (error) {
      throw this.unavailable(error)
    }
    this.entries.delete(id)
    this.options.announce?.({ type: 'schedule:removed', at: this.now(), scheduleId: id })
    return answer
  }

  /** "Run now": one run, under the schedule's overlap rule, whether or not it is paused; the cadence is unchanged. */
  async runNow(id: string): Promise<Schedule> {
    const entry = this.entry(id)
    await this.fire(entry, 'manual')
    return this.answer(entry)
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id)
    if (!entry) throw new CoordinatorError('not_found', `no schedule ${id}`)
    return entry
  }

  /** The schedule as answered, told to viewers too. */
  private announce(entry: Entry): Schedule {
    const schedule = this.answer(entry)
    this.options.announce?.({ type: 'schedule', at: this.now(), schedule })
    return schedule
  }

  private answer(entry: Entry): Schedule {
    const { stored } = entry
    const live = (run: ScheduleRun | null) =>
      run && { ...run, state: run.outcome === 'started' ? this.options.runner.stateOf(run) : null }
    const nextRuns =
      stored.nextRunAt === null
        ? []
        : [stored.nextRunAt, ...entry.spec.next(stored.nextRunAt, SCHEDULE_LIMITS.preview - 1)]
    return { ...stored, nextRuns, lastRun: live(stored.lastRun), pending: stored.pending }
  }

  /** Whether the last run's task or workflow has not ended, or a run is being submitted. */
  private busy(entry: Entry): boolean {
    const last = entry.stored.lastRun
    return entry.submitting || (last?.outcome === 'started' && unfinished(this.options.runner.stateOf(last)))
  }

  private async fire(entry: Entry, trigger: ScheduleTrigger): Promise<void> {
    const at = this.now()
    const run = (outcome: ScheduleRun['outcome'], reason: string | null): ScheduleRun => ({
      at,
      trigger,
      outcome,
      reason,
      taskId: null,
      workflowId: null,
    })
    const { overlap, pending } = entry.stored
    if (overlap !== 'allow' && (pending || this.busy(entry))) {
      if (overlap === 'queue' && !pending) {
        this.record(entry, { ...entry.stored, pending: run('queued', 'waits for the previous run to end') })
      } else {
        const reason = pending ? 'a run already waits for the previous one' : 'the previous run has not ended'
        this.record(entry, { ...entry.stored, lastRun: run('skipped', reason) })
      }
      return
    }
    await this.submit(entry, run('started', null))
  }

  private async startPending(entry: Entry): Promise<void> {
    const pending = entry.stored.pending!
    await this.submit(entry, { ...pending, outcome: 'started', reason: null })
  }

  private async submit(entry: Entry, run: ScheduleRun): Promise<void> {
    const { stored } = entry
    entry.submitting = true
    let result
    try {
      result = await this.options.runner.submit(
        stored.task !== null ? { task: stored.task } : { workflow: stored.workflow },
      )
    } finally {
      entry.submitting = false
    }
    const lastRun: ScheduleRun = result.ok
      ? { ...run, ...result.data }
      : { ...run, outcome: 'failed', reason: result.error.message }
    this.record(entry, { ...entry.stored, lastRun, pending: null })
  }

  /** A run's record: kept in memory at once, written in the background (a failed write is logged). */
  private record(entry: Entry, next: StoredSchedule): void {
    entry.stored = next
    if (!this.entries.has(next.id)) return
    this.announce(entry)
    this.options.store.saveSchedule(next).catch((error: unknown) => {
      this.options.logger.warn({ schedule: next.id, error: (error as Error).message }, 'schedule run not stored')
    })
  }

  /** An operator's change: stored first, kept once stored. */
  private async update(entry: Entry, next: StoredSchedule): Promise<Schedule> {
    await this.save(next)
    entry.stored = { ...next, lastRun: entry.stored.lastRun }
    return this.announce(entry)
  }

  private async save(stored: StoredSchedule): Promise<void> {
    try {
      await this.options.store.saveSchedule(stored)
    } catch (error) {
      throw this.unavailable(error)
    }
  }

  private unavailable(error: unknown): CoordinatorError {
    return new CoordinatorError(
      'unavailable',
      `the history database could not store it: ${(error as Error).message}; nothing changed`,
    )
  }
}
