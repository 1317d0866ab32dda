import { onBeforeUnmount, onMounted } from 'vue'
import type { Ref } from 'vue'

/**
 * Arrow keys (and j / k) move the focus between the rows of a list: from one
 * `[data-row-focus]` element to the next rendered one, scrolling it into view.
 * Virtualized lists render a margin of rows beyond the viewport, so the next
 * row is always there to take the focus.
 */
export function useRowKeys(container: Ref<HTMLElement | null>): void {
  function onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return
    const down = event.key === 'ArrowDown' || event.key === 'j'
    const up = event.key === 'ArrowUp' || event.key === 'k'
    if (!down && !up) return
    const el = container.value
    const target = event.target as HTMLElement | null
    if (!el || !target || target.closest('input, select, textarea')) return
    const rows = [...el.querySelectorAll<HTMLElement>('[data-row-focus]')].sort(
      (a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top,
    )
    if (rows.length === 0) return
    const current = rows.findIndex((row) => row === target || row.contains(target))
    const next = current < 0 ? (down ? 0 : rows.length - 1) : current + (down ? 1 : -1)
    const row = rows[Math.max(0, Math.min(rows.length - 1, next))]
    if (!row) return
    event.preventDefault()
    row.focus()
    row.scrollIntoView({ block: 'nearest' })
  }

  onMounted(() => container.value?.addEventListener('keydown', onKey))
  onBeforeUnmount(() => container.value?.removeEventListener('keydown', onKey))
}
