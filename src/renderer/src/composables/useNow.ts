import { onScopeDispose, readonly, ref } from 'vue'
import type { Ref } from 'vue'

/**
 * One clock for every "3 s ago" and countdown on the page: a single timer
 * ticking once a second while at least one component uses it.
 */
const now = ref(Date.now())
let users = 0
let timer: ReturnType<typeof setInterval> | undefined

export function useNow(): Readonly<Ref<number>> {
  if (users++ === 0) {
    now.value = Date.now()
    timer = setInterval(() => (now.value = Date.now()), 1000)
  }
  onScopeDispose(() => {
    if (--users === 0) clearInterval(timer)
  })
  return readonly(now)
}
