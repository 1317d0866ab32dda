/**
 * The Schedules section's data, live: the schedules from the reducer-fed
 * swarm state (`schedule` and `schedule:removed` events, and the snapshot),
 * so another operator's new schedule, pause or delete and each run's outcome
 * and next run show as they happen; nothing is polled.
 *
 * The events leave out what each run submits (`ScheduleSummary`). A started
 * run's state is read live: its task's status from the tasks held, its
 * workflow's state from the Workflows list (which the view keeps current);
 * else as the schedule's last change said.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Result } from '../../../shared/result'
import type { ScheduleRun, ScheduleSummary, SchedulePreview } from '../../../shared/schedules'
import { useConnectionStore } from './connection'
import { previewSchedule } from './operator-api'
import { useSwarmStore } from './swarm'
import { useWorkflowsStore } from './workflows'

export const useSchedulesStore = defineStore('schedules', () => {
  const swarm = useSwarmStore()
  const workflows = useWorkflowsStore()

  function live(run: ScheduleRun | null): ScheduleRun | null {
    if (!run || run.outcome !== 'started') return run
    const state = run.taskId
      ? swarm.tasks.get(run.taskId)?.status
      : workflows.workflows.find((workflow) => workflow.id === run.workflowId)?.state
    return state && state !== run.state ? { ...run, state } : run
  }

  /** By name, as `GET /api/schedules` lists them. */
  const schedules = computed<readonly ScheduleSummary[]>(() =>
    [...swarm.schedules.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((schedule) => ({ ...schedule, lastRun: live(schedule.lastRun) })),
  )

  const loaded = computed(() => swarm.hasSnapshot)
  /** The Workflows view shows its Schedules section (kept here, so coming back finds the section left). */
  const shown = ref(false)

  async function preview(cron: string, timezone: string): Promise<Result<SchedulePreview>> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    return previewSchedule(rest, timezone ? { cron, timezone } : { cron })
  }

  return { schedules, loaded, shown, preview }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSchedulesStore, import.meta.hot))
