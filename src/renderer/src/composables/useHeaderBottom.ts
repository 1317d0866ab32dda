import { onMounted, onScopeDispose, type Ref } from 'vue'

/**
 * Publishes where the app header ends as the CSS variable `--header-bottom`
 * on the document, kept current as the header grows (the stale banner, a
 * wrapped bar on a narrow window). Side panels start there, so the header,
 * and the connection indicator in it, stay in sight whatever is open.
 */
export function useHeaderBottom(header: Ref<HTMLElement | null>): void {
  const root = document.documentElement
  const update = () => {
    if (header.value)
      root.style.setProperty('--header-bottom', `${Math.ceil(header.value.getBoundingClientRect().bottom)}px`)
  }
  const observer = new ResizeObserver(update)
  onMounted(() => {
    if (header.value) observer.observe(header.value)
    update()
  })
  onScopeDispose(() => {
    observer.disconnect()
    root.style.removeProperty('--header-bottom')
  })
}
