/**
 * The task kinds' queues (`GET /api/kinds`): counts, limits and what holds
 * each. Not pushed as events (the counts change with every dispatch and the
 * rate windows are the server's), so read every 2 s while a Queues panel is
 * shown, and at once after an operator's change (`kind:update`).
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { KindUpdateRequest } from '../../../shared/commands'
import type { KindInfo } from '../../../shared/kinds'
import type { Result } from '../../../shared/result'
import { useConnectionStore } from './connection'
import { getKinds } from './operator-api'

export const KINDS_REFRESH_MS = 2000

export const useKindsStore = defineStore('kinds', () => {
  const kinds = shallowRef<readonly KindInfo[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)
  let readers = 0
  let timer: ReturnType<typeof setInterval> | null = null

  async function load(): Promise<void> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return
    const answer = await getKinds(rest)
    if (answer.ok) {
      kinds.value = answer.data
      error.value = null
      loaded.value = true
    } else error.value = answer.error.message
  }

  /** A panel shows the kinds: read now and every 2 s until the last one stops (`unwatch`). */
  function watch(): void {
    if (readers++ === 0) {
      void load()
      timer = setInterval(() => void load(), KINDS_REFRESH_MS)
    }
  }

  function unwatch(): void {
    if (--readers > 0 || timer === null) return
    clearInterval(timer)
    timer = null
  }

  async function update(request: KindUpdateRequest): Promise<Result<KindInfo>> {
    const answer = await useConnectionStore().command('kind:update', request)
    await load()
    return answer
  }

  return { kinds, loaded, error, load, watch, unwatch, update }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useKindsStore, import.meta.hot))
