/**
 * The Schedules section's data (`GET /api/schedules`). The server pushes task
 * changes, not schedules: like the Workflows view, this store reloads at most
 * once a second while tasks change (a run makes a task, and its outcome is a
 * task's status), and every 5 s while the section is open, so another
 * operator's pause or a new schedule shows within seconds.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ErrorBody, Result } from '../../../shared/result'
import type { Schedule, SchedulePreview } from '../../../shared/schedules'
import { useConnectionStore } from './connection'
import { previewSchedule } from './operator-api'

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** Reloads at most this often while tasks change. */
const RELOAD_EVERY_MS = 1000
/** Reloads this often while the section is open, tasks changing or not. */
const POLL_EVERY_MS = 5000

export const useSchedulesStore = defineStore('schedules', () => {
  const schedules = shallowRef<readonly Schedule[]>([])
  const loaded = ref(false)
  /** The Workflows view shows its Schedules section. */
  const shown = ref(false)
  const error = ref<ErrorBody | null>(null)
  let reloadTimer: ReturnType<typeof setTimeout> | null = null
  let pollTimer: ReturnType<typeof setInterval> | null = null
  let lastLoad = 0

  async function load(): Promise<void> {
    lastLoad = Date.now()
    const answer = await useConnectionStore().readApi('/api/schedules', (body) =>
      isRecord(body) && Array.isArray(body.schedules) ? (body.schedules as Schedule[]) : null,
    )
    loaded.value = true
    if (!answer.ok) {
      error.value = answer.error
      return
    }
    error.value = null
    schedules.value = answer.data
  }

  /** Tasks changed: reload soon, at most once a second. */
  function touch(): void {
    if (reloadTimer || !pollTimer) return
    const wait = Math.max(0, lastLoad + RELOAD_EVERY_MS - Date.now())
    reloadTimer = setTimeout(() => {
      reloadTimer = null
      void load()
    }, wait)
  }

  /** The section opened: load now, then every few seconds until `stop`. */
  function watch(): void {
    void load()
    if (!pollTimer) pollTimer = setInterval(() => void load(), POLL_EVERY_MS)
  }

  function stop(): void {
    if (reloadTimer) clearTimeout(reloadTimer)
    if (pollTimer) clearInterval(pollTimer)
    reloadTimer = null
    pollTimer = null
  }

  async function preview(cron: string, timezone: string): Promise<Result<SchedulePreview>> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    return previewSchedule(rest, timezone ? { cron, timezone } : { cron })
  }

  return { schedules, loaded, shown, error, load, touch, watch, stop, preview }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSchedulesStore, import.meta.hot))
