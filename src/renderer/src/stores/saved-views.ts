/**
 * Saved views from the server (`/api/views`): everyone reads them, operators
 * save the shown view under a name (the same name replaces it) and delete.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { Result } from '../../../shared/result'
import type { SavedView, SavedViewInput } from '../../../shared/saved-views'
import { useConnectionStore } from './connection'
import { deleteView, getSavedViews, saveView } from './operator-api'

const notConnected: Result<never> = { ok: false, error: { code: 'unavailable', message: 'not connected' } }

export const useSavedViewsStore = defineStore('saved-views', () => {
  const views = shallowRef<readonly SavedView[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)

  async function load(): Promise<void> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return
    const answer = await getSavedViews(rest)
    if (answer.ok) {
      views.value = answer.data
      error.value = null
      loaded.value = true
    } else error.value = answer.error.message
  }

  async function save(input: SavedViewInput): Promise<Result<SavedView>> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return notConnected
    const answer = await saveView(rest, input)
    if (answer.ok) await load()
    return answer
  }

  async function remove(id: string): Promise<Result<SavedView>> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return notConnected
    const answer = await deleteView(rest, id)
    if (answer.ok || answer.error.code === 'not_found') await load()
    return answer
  }

  return { views, loaded, error, load, save, remove }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSavedViewsStore, import.meta.hot))
