/**
 * What the schedule book needs of storage (the operator store implements it
 * on both history backends), and what a stored schedule is: the answer's
 * shape without what is computed when answered (the next run times, a run's
 * live state).
 */
import type { Schedule } from '../../../shared/schedules'

export type StoredSchedule = Omit<Schedule, 'nextRuns'>

export interface ScheduleStore {
  /** Every stored schedule, oldest first. */
  schedules(): Promise<StoredSchedule[]>
  /** Inserts or replaces the schedule with this id. */
  saveSchedule(schedule: StoredSchedule): Promise<void>
  /** Deletes it; resolves with whether there was one. */
  deleteSchedule(id: string): Promise<boolean>
}
