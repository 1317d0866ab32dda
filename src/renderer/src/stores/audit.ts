/**
 * The Audit section's data: pages of `GET /api/audit` (operators only),
 * newest first, with the filters the section offers. Not pushed: the
 * section reloads on a filter change, on "Refresh", and loads older pages
 * on demand.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { reactive, ref, shallowRef } from 'vue'
import type { AuditEntry, AuditOutcome } from '../../../shared/audit'
import type { ErrorBody } from '../../../shared/result'
import { useConnectionStore } from './connection'
import { getAuditPage } from './operator-api'

/** How far back the section looks. */
export const AUDIT_SPANS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, all: null } as const
export type AuditSpan = keyof typeof AUDIT_SPANS

const PAGE = 100

export const useAuditStore = defineStore('audit', () => {
  const entries = shallowRef<readonly AuditEntry[]>([])
  const total = ref(0)
  const next = ref<string | null>(null)
  const loading = ref(false)
  const error = ref<ErrorBody | null>(null)
  const filter = reactive({ actor: '', action: '', outcome: '' as '' | AuditOutcome, span: '24h' as AuditSpan })
  /** Answers to an older request are dropped: only the latest filter's show. */
  let request = 0

  function query(cursor?: string): URLSearchParams {
    const params = new URLSearchParams({ limit: String(PAGE) })
    if (filter.actor.trim()) params.set('actor', filter.actor.trim())
    if (filter.action) params.set('action', filter.action)
    if (filter.outcome) params.set('outcome', filter.outcome)
    const span = AUDIT_SPANS[filter.span]
    if (span !== null) params.set('since', String(Date.now() - span))
    if (cursor) params.set('cursor', cursor)
    return params
  }

  /** The first (newest) page for the current filters. */
  async function load(): Promise<void> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return
    const mine = ++request
    loading.value = true
    const answer = await getAuditPage(rest, query())
    if (mine !== request) return
    loading.value = false
    if (!answer.ok) {
      error.value = answer.error
      return
    }
    error.value = null
    entries.value = answer.data.entries
    total.value = answer.data.total
    next.value = answer.data.next
  }

  /** The next older page, added below. */
  async function loadOlder(): Promise<void> {
    const rest = useConnectionStore().restAccess()
    if (!rest || !next.value || loading.value) return
    const mine = ++request
    loading.value = true
    const answer = await getAuditPage(rest, query(next.value))
    if (mine !== request) return
    loading.value = false
    if (!answer.ok) {
      error.value = answer.error
      return
    }
    entries.value = [...entries.value, ...answer.data.entries]
    next.value = answer.data.next
  }

  return { entries, total, next, loading, error, filter, load, loadOlder }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useAuditStore, import.meta.hot))
