/**
 * The reducer's part for what operators set beside the tasks: per-kind limits
 * and schedules (`kind:limits`, `schedule`, `schedule:removed`). Each event
 * carries the whole state, so applying one is an upsert or a removal.
 */
import type { EventOf } from './events'
import { isDefaultLimits, type KindState } from './kinds'
import type { ScheduleSummary } from './schedules'

export interface OperatorState {
  /** The kinds with limits set, by kind. */
  kinds: Map<string, KindState>
  schedules: Map<string, ScheduleSummary>
}

export interface OperatorObserver {
  /** `state` is undefined when the kind left (back at its defaults). */
  kindChanged?(kind: string, state: KindState | undefined): void
  /** `schedule` is undefined when it was removed. */
  scheduleChanged?(scheduleId: string, schedule: ScheduleSummary | undefined): void
}

export function kindOf({ kind, paused, maxRunning, maxPerMinute, rateHeldUntil }: EventOf<'kind:limits'>): KindState {
  return { kind, paused, maxRunning, maxPerMinute, rateHeldUntil }
}

export function putKind(state: OperatorState, kind: KindState, observer: OperatorObserver | undefined): void {
  // A kind at its defaults holds nothing, and the server's snapshot leaves it out: so does the viewer.
  if (isDefaultLimits(kind) && kind.rateHeldUntil === null) {
    state.kinds.delete(kind.kind)
    observer?.kindChanged?.(kind.kind, undefined)
    return
  }
  state.kinds.set(kind.kind, kind)
  observer?.kindChanged?.(kind.kind, kind)
}

export function putSchedule(
  state: OperatorState,
  schedule: ScheduleSummary,
  observer: OperatorObserver | undefined,
): void {
  state.schedules.set(schedule.id, schedule)
  observer?.scheduleChanged?.(schedule.id, schedule)
}

export function removeSchedule(state: OperatorState, scheduleId: string, observer: OperatorObserver | undefined): void {
  state.schedules.delete(scheduleId)
  observer?.scheduleChanged?.(scheduleId, undefined)
}
