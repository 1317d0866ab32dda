/**
 * Cron expressions through croner, evaluated without its timers: a schedule
 * asks for its next run times from a given instant (the book's clock, a fake
 * one in tests), so nothing here reads the wall clock.
 */
import { Cron } from 'croner'
import { SCHEDULE_LIMITS } from '../../../shared/schedules'

/** Where a cron or a timezone is wrong: the field to name and why. */
export interface CronProblem {
  field: 'cron' | 'timezone'
  message: string
}

/** A valid expression in its timezone, ready to give run times. */
export interface CronSpec {
  cron: string
  timezone: string
  /** The first `count` run times strictly after `from` (epoch ms), oldest first. */
  next(from: number, count: number): number[]
}

/** Whether the runtime knows the IANA zone (`Intl` throws a RangeError for one it does not). */
function knownZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    return true
  } catch {
    return false
  }
}

/**
 * Parses `cron` in `timezone` (UTC when absent). Refused: a pattern croner
 * cannot read, an unknown zone, a pattern that never fires again after
 * `from`, and one that fires more than once a minute (a seconds field with
 * more than one value): schedules start tasks, not poll.
 */
export function parseCron(cron: string, timezone = 'UTC', from = Date.now()): CronSpec | CronProblem {
  if (!knownZone(timezone))
    return { field: 'timezone', message: `unknown timezone "${timezone}" (an IANA name such as Europe/Paris)` }
  let job: Cron
  try {
    job = new Cron(cron, { timezone, paused: true })
  } catch (error) {
    return { field: 'cron', message: (error as Error).message.replace(/^CronPattern: /, '') }
  }
  const next = (start: number, count: number): number[] =>
    job.nextRuns(count, new Date(start)).map((date) => date.getTime())
  let first: number[]
  try {
    first = next(from, 2)
  } catch (error) {
    return { field: 'cron', message: (error as Error).message }
  }
  if (first.length === 0) return { field: 'cron', message: `"${cron}" never fires again` }
  if (first.length === 2 && first[1]! - first[0]! < SCHEDULE_LIMITS.minIntervalMs) {
    return {
      field: 'cron',
      message: `"${cron}" fires more than once a minute; the shortest interval is ${SCHEDULE_LIMITS.minIntervalMs / 1000} seconds`,
    }
  }
  return { cron, timezone, next }
}

export const isCronProblem = (parsed: CronSpec | CronProblem): parsed is CronProblem => 'field' in parsed
