/**
 * The Tasks view's selection: a toggle, Shift ranges that take the clicked
 * row's new state, "all matching" turned back into rows when one is
 * unticked, and a new filter starting afresh.
 */
import { nextTick, reactive, ref } from 'vue'
import { describe, expect, it } from 'vitest'
import type { TaskSummary } from '../../../src/shared/domain'
import { useTaskSelection } from '../../../src/renderer/src/composables/useTaskSelection'
import { task } from '../../helpers/factories'

function setup(count = 6) {
  const rows = ref<TaskSummary[]>(Array.from({ length: count }, (_, i) => task(`t-${i}`, 'queued')))
  const filter = reactive({ text: '' })
  const selection = useTaskSelection(rows, () => ({ ...filter }))
  const ids = () => [...selection.picked.value].sort()
  return { rows, filter, selection, ids, row: (i: number) => rows.value[i]! }
}

describe('useTaskSelection', () => {
  it('toggles one row; Shift extends from the last one toggled, either way', () => {
    const { selection, ids, row } = setup()
    selection.toggle(row(1), false)
    selection.toggle(row(4), true)
    expect(ids()).toEqual(['t-1', 't-2', 't-3', 't-4'])
    expect(selection.count.value).toBe(4)
    selection.toggle(row(0), true)
    expect(ids()).toEqual(['t-0', 't-1', 't-2', 't-3', 't-4'])
    // Unticking with Shift clears the range back to the anchor.
    selection.toggle(row(2), true)
    expect(ids()).toEqual(['t-3', 't-4'])
    selection.toggle(row(3), false)
    expect(ids()).toEqual(['t-4'])
  })

  it('all matching counts every row; unticking one keeps the others as picked rows', () => {
    const { selection, ids, row } = setup(3)
    selection.selectAllMatching()
    expect(selection.count.value).toBe(3)
    expect(selection.isSelected('t-2')).toBe(true)
    selection.toggle(row(1), false)
    expect(selection.allMatching.value).toBe(false)
    expect(ids()).toEqual(['t-0', 't-2'])
    expect(selection.selectedRows().map((t) => t.id)).toEqual(['t-0', 't-2'])
  })

  it('a new filter clears the selection', async () => {
    const { selection, filter, row } = setup()
    selection.toggle(row(0), false)
    selection.selectAllMatching()
    filter.text = 'build'
    await nextTick()
    expect(selection.count.value).toBe(0)
    expect(selection.allMatching.value).toBe(false)
  })
})
