/**
 * The Workflows view's data: the list (`GET /api/workflows`) and the one
 * workflow open (`GET /api/workflows/:id`). The server pushes task changes,
 * not workflows: the view reads each node's status live from the swarm
 * store, and this store reloads the list and the open workflow at most once
 * a second while tasks change (`touch`), so progress follows too.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ErrorBody } from '../../../shared/result'
import type { WorkflowDetail, WorkflowSummary } from '../../../shared/workflows'
import { useConnectionStore } from './connection'

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** Reloads at most this often while tasks change. */
const RELOAD_EVERY_MS = 1000

export const useWorkflowsStore = defineStore('workflows', () => {
  const workflows = shallowRef<readonly WorkflowSummary[]>([])
  const total = ref(0)
  const selectedId = ref<string | null>(null)
  const detail = shallowRef<WorkflowDetail | null>(null)
  const loading = ref(false)
  const error = ref<ErrorBody | null>(null)
  let reloadTimer: ReturnType<typeof setTimeout> | null = null
  let lastLoad = 0

  async function load(): Promise<void> {
    const connection = useConnectionStore()
    lastLoad = Date.now()
    loading.value = true
    const list = await connection.readApi('/api/workflows?limit=200', (body) =>
      isRecord(body) && Array.isArray(body.workflows) && typeof body.total === 'number'
        ? { workflows: body.workflows as WorkflowSummary[], total: body.total }
        : null,
    )
    loading.value = false
    if (!list.ok) {
      error.value = list.error
      return
    }
    error.value = null
    workflows.value = list.data.workflows
    total.value = list.data.total
    if (selectedId.value) await loadDetail(selectedId.value)
  }

  async function loadDetail(id: string): Promise<void> {
    const answer = await useConnectionStore().readApi(`/api/workflows/${encodeURIComponent(id)}`, (body) =>
      isRecord(body) && typeof body.id === 'string' && Array.isArray(body.tasks)
        ? (body as unknown as WorkflowDetail)
        : null,
    )
    if (id !== selectedId.value) return
    if (answer.ok) detail.value = answer.data
    else error.value = answer.error
  }

  async function select(id: string | null): Promise<void> {
    selectedId.value = id
    detail.value = null
    if (id) await loadDetail(id)
  }

  /** Tasks changed: reload soon, at most once a second. */
  function touch(): void {
    if (reloadTimer) return
    const wait = Math.max(0, lastLoad + RELOAD_EVERY_MS - Date.now())
    reloadTimer = setTimeout(() => {
      reloadTimer = null
      void load()
    }, wait)
  }

  function stop(): void {
    if (reloadTimer) clearTimeout(reloadTimer)
    reloadTimer = null
  }

  return { workflows, total, selectedId, detail, loading, error, load, select, touch, stop }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useWorkflowsStore, import.meta.hot))
