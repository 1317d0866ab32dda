/**
 * Schedules without zod: their bounds and the shapes the server answers with
 * (`/api/schedules`, the `schedule:*` commands). The server validates with
 * its own schema (core/schedules/schedule-input.ts); the renderer reads the
 * types and the bounds.
 */
import type { TaskSubmitRequest, WorkflowSubmitRequest } from './commands'
import type { TaskStatus } from './statuses'
import type { WorkflowState } from './workflows'

export const SCHEDULE_LIMITS = {
  /** Schedules a server keeps. */
  schedules: 200,
  /** Characters in a schedule's name. */
  nameLength: 200,
  /** Characters in a cron expression. */
  cronLength: 120,
  /** Characters in a timezone name. */
  timezoneLength: 64,
  /** Run times a schedule and the preview show. */
  preview: 5,
  /** The shortest time between two runs: a cron that fires more often (a seconds field) is refused. */
  minIntervalMs: 60_000,
} as const

/** What a schedule does when a run is due while the previous run has not ended. */
export const SCHEDULE_OVERLAPS = ['skip', 'queue', 'allow'] as const
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAPS)[number]

/** `POST /api/schedules`, `schedule:create`: a task or a workflow, never both. */
export interface ScheduleCreateRequest {
  name: string
  cron: string
  /** An IANA name (`Europe/Paris`); absent: UTC. */
  timezone?: string
  overlap?: ScheduleOverlap
  task?: TaskSubmitRequest
  workflow?: WorkflowSubmitRequest
}

export interface ScheduleRef {
  scheduleId: string
}

/** `POST /api/schedules/preview`. */
export interface SchedulePreviewRequest {
  cron: string
  timezone?: string
}

/** The next run times (epoch ms), oldest first. */
export interface SchedulePreview {
  nextRuns: number[]
}

/** Why a run happened: its time came, the first check after a restart found runs missed, or an operator asked. */
export type ScheduleTrigger = 'cron' | 'catch-up' | 'manual'

/**
 * How a run went when the schedule made it: `started` (its task or workflow
 * was submitted), `queued` (it waits for the previous run to end),
 * `skipped` (overlap "skip", or a run already waiting) or `failed` (the
 * submission was refused: `reason` says why).
 */
export type ScheduleRunOutcome = 'started' | 'queued' | 'skipped' | 'failed'

export interface ScheduleRun {
  /** When it ran (or was skipped), epoch ms. */
  at: number
  trigger: ScheduleTrigger
  outcome: ScheduleRunOutcome
  reason: string | null
  taskId: string | null
  workflowId: string | null
  /** What became of it, read live when answered: the task's status or the workflow's state (null: not known). */
  state?: TaskStatus | WorkflowState | null
}

export interface Schedule {
  id: string
  name: string
  cron: string
  timezone: string
  overlap: ScheduleOverlap
  /** What each run submits: a task or a workflow. */
  target: 'task' | 'workflow'
  task: TaskSubmitRequest | null
  workflow: WorkflowSubmitRequest | null
  paused: boolean
  createdBy: string
  createdAt: number
  /** The next run time while not paused (epoch ms), else null. */
  nextRunAt: number | null
  /** The next run times (the first is `nextRunAt`); empty while paused. */
  nextRuns: number[]
  lastRun: ScheduleRun | null
  /** A run waiting for the previous one to end (overlap "queue"), or null. */
  pending: ScheduleRun | null
}

/**
 * A schedule as viewers hold it (the `schedule` event, `Snapshot.schedules`): everything but what each run
 * submits, which may be a large workflow (`GET /api/schedules/:id` serves it). `lastRun.state` is as it was
 * when the schedule last changed; a viewer reads the live one from the run's task or workflow tasks it holds.
 */
export type ScheduleSummary = Omit<Schedule, 'task' | 'workflow'>

export function summarizeSchedule({ task, workflow, ...summary }: Schedule): ScheduleSummary {
  void task
  void workflow
  return summary
}

/** `GET /api/schedules`. */
export interface ScheduleList {
  schedules: Schedule[]
}
