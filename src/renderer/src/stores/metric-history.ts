/**
 * Stored metric samples for the Overview's charts (`GET /api/metrics`): the
 * range shown, and a zoomed span at a finer step. The live samples of the
 * socket stay in the swarm store; the charts join both (metric-series.ts).
 * A long range (24 h, 7 d) is fetched again every minute while shown.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { MetricsSample } from '../../../shared/domain'
import type { MetricRange } from '../../../shared/metric-ranges'
import { useConnectionStore } from './connection'
import { getMetricHistory } from './operator-api'

export interface StoredSamples {
  /** What was asked: a range, or a zoomed span. */
  key: string
  stepMs: number
  samples: readonly MetricsSample[]
}

export const useMetricHistoryStore = defineStore('metric-history', () => {
  const range = shallowRef<StoredSamples | null>(null)
  const zoomed = shallowRef<StoredSamples | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  let request = 0

  async function fetchInto(
    target: typeof range,
    key: string,
    span: { range: MetricRange } | { from: number; to: number },
  ): Promise<void> {
    const rest = useConnectionStore().restAccess()
    if (!rest) return
    const mine = ++request
    loading.value = true
    const answer = await getMetricHistory(rest, span)
    if (mine !== request) return
    loading.value = false
    if (!answer.ok) {
      error.value = answer.error.message
      return
    }
    error.value = null
    target.value = { key, stepMs: answer.data.stepMs, samples: answer.data.samples }
  }

  function loadRange(name: MetricRange): Promise<void> {
    return fetchInto(range, name, { range: name })
  }

  function loadSpan(from: number, to: number): Promise<void> {
    return fetchInto(zoomed, `${from}-${to}`, { from, to })
  }

  function clearSpan(): void {
    zoomed.value = null
  }

  return { range, zoomed, error, loading, loadRange, loadSpan, clearSpan }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useMetricHistoryStore, import.meta.hot))
