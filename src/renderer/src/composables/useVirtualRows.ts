import { computed, onBeforeUnmount, onMounted, ref } from 'vue'
import type { ComputedRef, Ref } from 'vue'

export interface RowWindow {
  start: number
  end: number
  /** Heights of the spacers standing in for the rows not rendered. */
  padTop: number
  padBottom: number
}

export interface VirtualRowsOptions {
  /** Every row's height in px; the table's CSS must make rows exactly this tall. */
  rowHeight: number
  /** Rows rendered beyond each edge of the viewport. */
  overscan?: number
  /**
   * Up to this many rows everything is rendered, so small swarms keep every
   * row in the DOM (searchable with Ctrl+F, and what tests look for).
   */
  threshold?: number
}

/**
 * Renders only the rows of a long table that can be seen. A table of a
 * thousand rows re-laid out on every update costs ~100 ms a frame in
 * Chromium; the visible thirty cost almost nothing.
 */
export function useVirtualRows(
  scroller: Ref<HTMLElement | null>,
  count: Ref<number>,
  { rowHeight, overscan = 8, threshold = 200 }: VirtualRowsOptions,
): ComputedRef<RowWindow> {
  const scrollTop = ref(0)
  const viewportHeight = ref(800)
  let frame = 0
  let observer: ResizeObserver | null = null

  function measure(): void {
    frame = 0
    const el = scroller.value
    if (!el) return
    scrollTop.value = el.scrollTop
    viewportHeight.value = el.clientHeight
  }

  function onScroll(): void {
    if (!frame) frame = requestAnimationFrame(measure)
  }

  onMounted(() => {
    const el = scroller.value
    if (!el) return
    el.addEventListener('scroll', onScroll, { passive: true })
    observer = new ResizeObserver(onScroll)
    observer.observe(el)
    measure()
  })

  onBeforeUnmount(() => {
    scroller.value?.removeEventListener('scroll', onScroll)
    observer?.disconnect()
    cancelAnimationFrame(frame)
  })

  return computed(() => {
    const n = count.value
    if (n <= threshold) return { start: 0, end: n, padTop: 0, padBottom: 0 }
    const first = Math.floor(scrollTop.value / rowHeight)
    const start = Math.max(0, Math.min(n, first) - overscan)
    const end = Math.min(n, first + Math.ceil(viewportHeight.value / rowHeight) + overscan)
    return { start, end, padTop: start * rowHeight, padBottom: (n - end) * rowHeight }
  })
}
