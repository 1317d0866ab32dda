/**
 * Bulk actions from the Tasks view (`POST /api/tasks/bulk`, over HTTP: the
 * answer of a large set takes seconds, longer than a socket command waits).
 * Ids go in requests of `TASK_BULK_LIMITS.ids`, one after another, so a large
 * selection shows its progress; a filter goes in one request (its progress is
 * the server's to make, the page shows that it waits). The answers add up to
 * one outcome, which stays until dismissed or the next action.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { Result } from '../../../shared/result'
import {
  TASK_BULK_LIMITS,
  type TaskBulkAction,
  type TaskBulkAnswer,
  type TaskBulkFilter,
} from '../../../shared/task-bulk'
import { useConnectionStore } from './connection'
import { postTaskBulk } from './operator-api'

export type BulkTarget = { ids: readonly string[] } | { filter: TaskBulkFilter }

export interface BulkOutcome {
  answer: TaskBulkAnswer
  /** Why it stopped early (a refused request); the counts are those of the requests answered before. */
  error: string | null
}

const notConnected: Result<never> = { ok: false, error: { code: 'unavailable', message: 'not connected' } }

function empty(action: TaskBulkAction): TaskBulkAnswer {
  return { action, dryRun: false, matched: 0, changed: 0, skipped: [], skippedTotal: 0 }
}

function add(total: TaskBulkAnswer, part: TaskBulkAnswer): TaskBulkAnswer {
  const room = TASK_BULK_LIMITS.skippedListed - total.skipped.length
  return {
    ...total,
    matched: total.matched + part.matched,
    changed: total.changed + part.changed,
    skipped: room > 0 ? [...total.skipped, ...part.skipped.slice(0, room)] : total.skipped,
    skippedTotal: total.skippedTotal + part.skippedTotal,
  }
}

export const useTaskBulkStore = defineStore('task-bulk', () => {
  const running = ref<TaskBulkAction | null>(null)
  /** Ids sent and answered so far, of how many; null for a filter (one request). */
  const progress = ref<{ done: number; total: number } | null>(null)
  const outcome = shallowRef<BulkOutcome | null>(null)

  /** What the action would do to a filter's tasks, changing nothing: the confirmation's count. */
  async function preview(action: TaskBulkAction, filter: TaskBulkFilter): Promise<Result<TaskBulkAnswer>> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return notConnected
    return postTaskBulk(rest, { action, filter, dryRun: true })
  }

  async function run(action: TaskBulkAction, target: BulkTarget): Promise<BulkOutcome | null> {
    const rest = useConnectionStore().restAccess()
    if (!rest || running.value) return null
    running.value = action
    outcome.value = null
    let total = empty(action)
    let error: string | null = null
    try {
      if ('filter' in target) {
        progress.value = null
        const answer = await postTaskBulk(rest, { action, filter: target.filter })
        if (answer.ok) total = answer.data
        else error = answer.error.message
      } else {
        const ids = target.ids
        progress.value = { done: 0, total: ids.length }
        for (let start = 0; start < ids.length; start += TASK_BULK_LIMITS.ids) {
          const chunk = ids.slice(start, start + TASK_BULK_LIMITS.ids)
          const answer = await postTaskBulk(rest, { action, ids: [...chunk] })
          if (!answer.ok) {
            error = `stopped after ${start.toLocaleString('en-US')} of ${ids.length.toLocaleString('en-US')}: ${answer.error.message}`
            break
          }
          total = add(total, answer.data)
          progress.value = { done: start + chunk.length, total: ids.length }
        }
      }
    } finally {
      running.value = null
      progress.value = null
    }
    outcome.value = { answer: total, error }
    return outcome.value
  }

  function dismiss(): void {
    outcome.value = null
  }

  return { running, progress, outcome, preview, run, dismiss }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useTaskBulkStore, import.meta.hot))
