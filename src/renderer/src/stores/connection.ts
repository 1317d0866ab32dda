/**
 * The page's connection to the core's `/dashboard` namespace, as state the
 * indicator and the views can read. The work is done by the shared
 * `DashboardClient` (src/shared/client): state machine, backoff, heartbeat,
 * REST fallback, resume and the command queue. This store finds the
 * endpoint and the token, mirrors the client's status into refs on every
 * change, and hands snapshots and events to the swarm store.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { io } from 'socket.io-client'
import { computed, ref, shallowRef } from 'vue'
import { DashboardClient, type DashboardStatus } from '../../../shared/client/dashboard-client'
import type { Role, TaskDetail } from '../../../shared/domain'
import type { Result } from '../../../shared/result'
import { DEFAULT_ROUTING_POLICY, type RoutingPolicy } from '../../../shared/routing'
import { notifyCriticalAlerts } from '../desktop'
import { discoverEndpoint, readHashToken, writeHashToken } from '../endpoint'
import type { EndpointSource } from '../endpoint'
import { isTokenRefusal, tuningFromHash } from './connection.model'
import type {
  CommandData,
  CommandName,
  CommandRequest,
  ConnectionError,
  ConnectionState,
  LinkQuality,
  TokenProblem,
  Transition,
  Transport,
} from './connection.model'
import { getFile, getJson, getTaskDetail } from './dashboard-api'
import { useSwarmStore } from './swarm'

export const useConnectionStore = defineStore('connection', () => {
  const swarm = useSwarmStore()

  const state = ref<ConnectionState>('disconnected')
  const transport = ref<Transport>('polling')
  /** The reconnection attempt under way or waited for (1-based); 0 while connected. */
  const attempt = ref(0)
  const failures = ref(0)
  /** Epoch ms of the next attempt; null while an attempt is in flight. */
  const nextRetryAt = ref<number | null>(null)
  const retryDelayMs = ref<number | null>(null)
  const rttMs = ref<number | null>(null)
  /** Moving average of the heartbeat round trip: what the quality is judged on. */
  const averageRttMs = ref<number | null>(null)
  const quality = ref<LinkQuality>('unknown')
  const missedHeartbeats = ref(0)
  const queuedCommands = ref(0)
  const pendingCommands = ref(0)
  const role = ref<Role | null>(null)
  const serverVersion = ref<string | null>(null)
  /** The server's routing policy (from its welcome): what the task drawer explains a waiting task by. */
  const routing = shallowRef<RoutingPolicy>(DEFAULT_ROUTING_POLICY)
  /** Server clock minus ours, so ages of server timestamps are right on a skewed client. */
  const clockOffsetMs = ref(0)
  const url = ref<string | null>(null)
  const source = ref<EndpointSource | null>(null)
  const tokenProblem = ref<TokenProblem>(null)
  const lastError = ref<ConnectionError | null>(null)
  const lastPollAt = ref<number | null>(null)
  /** Newest last, bounded. */
  const history = shallowRef<readonly Transition[]>([])

  const client = shallowRef<DashboardClient | null>(null)
  /** Operators may act whenever they could reach the server again: commands wait in the queue meanwhile. */
  const canCommand = computed(() => client.value !== null && role.value === 'operator' && state.value !== 'error')

  let token: string | null = null
  let hashListener: (() => void) | null = null

  function mirror(status: DashboardStatus): void {
    state.value = status.state
    transport.value = status.transport
    attempt.value = status.attempt
    failures.value = status.failures
    nextRetryAt.value = status.nextRetryAt
    retryDelayMs.value = status.retryDelayMs
    rttMs.value = status.rttMs
    averageRttMs.value = status.averageRttMs
    quality.value = status.quality
    missedHeartbeats.value = status.missedHeartbeats
    queuedCommands.value = status.queuedCommands
    pendingCommands.value = status.pendingCommands
    role.value = status.role
    serverVersion.value = status.serverVersion
    if (status.routing && status.routing !== routing.value) routing.value = status.routing
    if (status.clockOffsetMs !== null) clockOffsetMs.value = status.clockOffsetMs
    lastError.value = status.lastError
    lastPollAt.value = status.lastPollAt
    if (history.value !== status.history) history.value = status.history
  }

  /** Finds the endpoint and token, then connects; without a token, asks for one. */
  async function start(): Promise<void> {
    try {
      const endpoint = await discoverEndpoint()
      url.value = endpoint.url
      source.value = endpoint.source
      token = endpoint.token
    } catch (error) {
      lastError.value = {
        at: Date.now(),
        message: `cannot find the server: ${error instanceof Error ? error.message : String(error)}`,
      }
      state.value = 'error'
      return
    }
    if (source.value === 'browser' && !hashListener) {
      hashListener = () => {
        const fromHash = readHashToken()
        if (fromHash && fromHash !== token) submitToken(fromHash)
      }
      window.addEventListener('hashchange', hashListener)
    }
    if (!token) {
      tokenProblem.value = 'missing'
      return
    }
    connect()
  }

  /** Connects with a token the user typed; in a browser it also goes into the URL fragment. */
  function submitToken(newToken: string): void {
    token = newToken.trim()
    if (!token) return
    if (source.value === 'browser' && readHashToken() !== token) writeHashToken(token)
    connect()
  }

  /** A fresh client for the current endpoint and token; the previous one is closed. */
  function connect(): void {
    if (!url.value || !token) return
    client.value?.dispose('replaced by a new connection (token changed)')
    tokenProblem.value = null
    const next = new DashboardClient({
      url: url.value,
      token,
      createSocket: io,
      fetch: (input, init) => fetch(input, init),
      tuning: tuningFromHash(window.location.hash),
      // Every transition and retry in the browser console too; never at error
      // level: a lost connection is an expected condition, not a page bug.
      log: (level, message) =>
        (level === 'debug' ? console.debug : level === 'info' ? console.info : console.warn)(`[connection] ${message}`),
    })
    next.on('change', mirror)
    next.on('state', (transition) => {
      if (transition.to === 'error' && isTokenRefusal(transition.reason)) tokenProblem.value = 'refused'
    })
    next.on('snapshot', (snapshot) => swarm.applySnapshot(snapshot))
    next.on('events', (events) => {
      swarm.enqueueEvents(events)
      notifyCriticalAlerts(events)
    })
    client.value = next
    next.start()
  }

  /** The details panel's "Reconnect now": skip the wait, or start again after a stop or an error. */
  function reconnectNow(): void {
    if (client.value) client.value.reconnectNow()
    else connect()
  }

  /** Closes the connection on purpose and stops retrying; queued commands keep waiting. */
  function disconnect(): void {
    client.value?.stop()
  }

  /** Sends an operator command now, or queues it until the connection is back (see DashboardClient.command). */
  async function command<N extends CommandName>(name: N, payload: CommandRequest<N>): Promise<Result<CommandData<N>>> {
    if (!client.value) return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    return client.value.command(name, payload)
  }

  /** Where REST calls go and the token they carry; null until both are known. */
  function restAccess(): { url: string; token: string } | null {
    return url.value && token ? { url: url.value, token } : null
  }

  /** `GET /api/tasks/:id`: the task with its transitions and its stored log lines. */
  async function fetchTaskDetail(taskId: string): Promise<Result<TaskDetail>> {
    if (!url.value || !token) return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    return getTaskDetail(url.value, token, taskId)
  }

  /** An authorized `GET` of the API (the history's searches): the answer checked by `parse`, or why not. */
  async function readApi<T>(path: string, parse: (body: unknown) => T | null): Promise<Result<T>> {
    if (!url.value || !token) return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    return getJson(url.value, token, path, parse)
  }

  /** An authorized download from the API (an export), whole. */
  async function downloadApi(path: string): Promise<Result<{ blob: Blob; filename: string }>> {
    if (!url.value || !token) return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    return getFile(url.value, token, path)
  }

  return {
    state,
    transport,
    attempt,
    failures,
    nextRetryAt,
    retryDelayMs,
    rttMs,
    averageRttMs,
    quality,
    missedHeartbeats,
    queuedCommands,
    pendingCommands,
    role,
    routing,
    serverVersion,
    clockOffsetMs,
    url,
    source,
    tokenProblem,
    lastError,
    lastPollAt,
    history,
    canCommand,
    start,
    submitToken,
    connect,
    reconnectNow,
    disconnect,
    command,
    fetchTaskDetail,
    restAccess,
    readApi,
    downloadApi,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useConnectionStore, import.meta.hot))
