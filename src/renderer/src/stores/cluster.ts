/**
 * The Cluster view's data: `GET /api/cluster` every 2 s while the view is
 * shown, each node's recent load for its sparkline, and the node the
 * connection details name (`/healthz`).
 *
 * Polled, not pushed: who the nodes are is not part of the swarm, so it is
 * not in the sequenced event stream every viewer follows (adding it would
 * send every node's figures to every viewer, each second, whether or not it
 * looks). Each node answers `/api/cluster` from its own once-a-second read
 * of Redis, so a poll costs one small in-memory answer and no Redis work,
 * and only pages showing the view poll.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ClusterInfo, NodeHealth } from '../../../shared/cluster'
import type { ErrorBody, Result } from '../../../shared/result'
import { CLUSTER_POLL_MS, recordLoad, type LoadHistory } from './cluster.model'

/** `GET /api/cluster` and `/healthz`'s node: on the page, cluster.source.ts's REST calls. */
export interface ClusterSource {
  info(): Promise<Result<ClusterInfo>>
  node(): Promise<Result<NodeHealth>>
}

export const useClusterStore = defineStore('cluster', () => {
  const info = shallowRef<ClusterInfo | null>(null)
  const loads = shallowRef<LoadHistory>({})
  /** Why the last poll failed (the server unreachable, a refused token); null once one succeeds. */
  const error = ref<ErrorBody | null>(null)
  /** When the last answer came (page clock). */
  const updatedAt = ref<number | null>(null)
  const node = shallowRef<NodeHealth | null>(null)

  let users = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  let polling: Promise<void> | null = null
  let source: ClusterSource | null = null

  /** One poll; never two at once, and a late answer after `stop()` is still kept (it is no less true). */
  function refresh(): Promise<void> {
    polling ??= (async () => {
      if (!source) return
      const answer = await source.info()
      if (!answer.ok) {
        error.value = answer.error
        return
      }
      const at = Date.now()
      error.value = null
      info.value = answer.data
      loads.value = recordLoad(loads.value, answer.data, at)
      updatedAt.value = at
    })().finally(() => (polling = null))
    return polling
  }

  /** The next poll, 2 s after the last answer (so a slow server is not asked again before it has answered). */
  function schedule(): void {
    if (timer !== null || users === 0) return
    timer = setTimeout(() => {
      timer = null
      void refresh().finally(schedule)
    }, CLUSTER_POLL_MS)
  }

  /** Polls while at least one caller wants it (the view, from mount to unmount); the first poll at once. */
  function start(from: ClusterSource): void {
    source = from
    if (users++ > 0) return
    void refresh().finally(schedule)
  }

  function stop(): void {
    if (users === 0 || --users > 0) return
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  /** Asks `/healthz` which node this page's URL reaches, and its role now. */
  async function loadNode(from: ClusterSource): Promise<void> {
    const answer = await from.node()
    if (answer.ok) node.value = answer.data
  }

  /** One poll now from `from`, whether or not the view polls (tests, a "refresh"). */
  function refreshFrom(from: ClusterSource): Promise<void> {
    source = from
    return refresh()
  }

  return { info, loads, error, updatedAt, node, refreshFrom, start, stop, loadNode }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useClusterStore, import.meta.hot))
