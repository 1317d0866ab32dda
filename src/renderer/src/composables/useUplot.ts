import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { onBeforeUnmount, onMounted, watch } from 'vue'
import type { Ref, WatchSource } from 'vue'

/** A CSS custom property of `el`, for canvas colours that follow the theme. */
export function cssVar(el: Element | null, name: string, fallback: string): string {
  if (!el) return fallback
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback
}

/**
 * One uPlot chart in `el`: built on mount, rebuilt when the theme flips
 * (canvas colours come from CSS variables), resized with its box, and
 * redrawn at most once per animation frame when `source` changes.
 */
export function useUplot(
  el: Ref<HTMLElement | null>,
  options: (el: HTMLElement, size: { width: number; height: number }) => uPlot.Options,
  data: () => uPlot.AlignedData,
  source: WatchSource | WatchSource[],
  onDraw?: (data: uPlot.AlignedData) => void,
): void {
  let plot: uPlot | null = null
  let frame = 0
  let resizeObserver: ResizeObserver | null = null
  let colorScheme: MediaQueryList | null = null

  function create(): void {
    const box = el.value
    if (!box) return
    plot?.destroy()
    const size = { width: Math.max(box.clientWidth, 60), height: Math.max(box.clientHeight, 30) }
    const initial = data()
    plot = new uPlot(options(box, size), initial, box)
    onDraw?.(initial)
  }

  function redraw(): void {
    if (frame) return
    frame = requestAnimationFrame(() => {
      frame = 0
      if (!plot) return
      const next = data()
      plot.setData(next)
      onDraw?.(next)
    })
  }

  function resize(): void {
    const box = el.value
    if (!box || !plot) return
    const width = Math.floor(box.clientWidth)
    const height = Math.floor(box.clientHeight)
    if (width > 0 && height > 0 && (width !== plot.width || height !== plot.height)) plot.setSize({ width, height })
  }

  watch(source, redraw)

  onMounted(() => {
    create()
    resizeObserver = new ResizeObserver(resize)
    if (el.value) resizeObserver.observe(el.value)
    colorScheme = window.matchMedia('(prefers-color-scheme: dark)')
    colorScheme.addEventListener('change', create)
  })

  onBeforeUnmount(() => {
    cancelAnimationFrame(frame)
    frame = 0
    resizeObserver?.disconnect()
    colorScheme?.removeEventListener('change', create)
    plot?.destroy()
    plot = null
  })
}
