import { computed, ref, shallowRef, watch, type Ref, type WatchSource } from 'vue'
import type { TaskSummary } from '../../../shared/domain'

/**
 * The Tasks view's row selection for bulk actions: rows picked one by one
 * (a click or Space toggles one; Shift extends from the last one toggled to
 * this one, giving the range that one's new state), or "all N matching" the
 * current filter, which the server resolves itself. A new filter starts
 * afresh: a selection nobody can see is one nobody meant.
 */
export function useTaskSelection(rows: Ref<readonly TaskSummary[]>, filter: WatchSource) {
  const picked = shallowRef<ReadonlySet<string>>(new Set())
  const allMatching = ref(false)
  /** The row last toggled by hand, by id (indexes move as tasks arrive). */
  let anchor: string | null = null

  const count = computed(() => (allMatching.value ? rows.value.length : picked.value.size))

  function isSelected(taskId: string): boolean {
    return allMatching.value || picked.value.has(taskId)
  }

  /** Toggles one row; with `extend`, every row from the anchor to it takes that row's new state. */
  function toggle(task: TaskSummary, extend: boolean): void {
    const next = new Set(allMatching.value ? rows.value.map((row) => row.id) : picked.value)
    allMatching.value = false
    const on = !next.has(task.id)
    const list = rows.value
    const to = list.findIndex((row) => row.id === task.id)
    const from = extend && anchor !== null ? list.findIndex((row) => row.id === anchor) : -1
    if (from >= 0 && to >= 0) {
      for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
        if (on) next.add(list[i]!.id)
        else next.delete(list[i]!.id)
      }
    } else if (on) next.add(task.id)
    else next.delete(task.id)
    anchor = task.id
    picked.value = next
  }

  function selectAllMatching(): void {
    allMatching.value = true
  }

  function clear(): void {
    allMatching.value = false
    picked.value = new Set()
    anchor = null
  }

  /** The selected tasks this page knows, in list order (all matching: every row). */
  function selectedRows(): TaskSummary[] {
    return allMatching.value ? [...rows.value] : rows.value.filter((row) => picked.value.has(row.id))
  }

  watch(filter, clear, { deep: true })

  return { picked, allMatching, count, isSelected, toggle, selectAllMatching, clear, selectedRows }
}
