/**
 * The one Socket.IO connection to the core's `/dashboard` namespace, and
 * everything the connection indicator shows about it.
 *
 * Socket.IO's Manager does the reconnecting (exponential backoff with
 * jitter); this store mirrors its progress as state, measures round-trip
 * time with an application heartbeat, falls back to REST polling after
 * repeated failures, and hands snapshots and events to the swarm store.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { io } from 'socket.io-client'
import { computed, ref, shallowRef } from 'vue'
import type { Role, TaskDetail } from '../../../shared/domain'
import type { Result } from '../../../shared/result'
import { notifyCriticalAlerts } from '../desktop'
import { discoverEndpoint, readHashToken, writeHashToken } from '../endpoint'
import type { EndpointSource } from '../endpoint'
import {
  COMMAND_TIMEOUT_MS,
  HEARTBEAT,
  HISTORY_LIMIT,
  RECONNECT,
  classifyRtt,
  isTokenRefusal,
  retryDelay,
} from './connection.model'
import type {
  CommandData,
  CommandName,
  CommandRequest,
  ConnectionError,
  ConnectionState,
  DashboardSocket,
  LinkQuality,
  TokenProblem,
  Transition,
} from './connection.model'
import { emitCommand, getTaskDetail } from './dashboard-api'
import { startHeartbeat } from './heartbeat'
import type { Heartbeat } from './heartbeat'
import { startSnapshotPoller } from './snapshot-poller'
import type { SnapshotPoller } from './snapshot-poller'
import { useSwarmStore } from './swarm'

export const useConnectionStore = defineStore('connection', () => {
  const swarm = useSwarmStore()

  const state = ref<ConnectionState>('disconnected')
  const socketTransport = ref<'websocket' | 'polling'>('polling')
  /** The reconnection attempt under way or waited for (1-based); 0 while connected. */
  const attempt = ref(0)
  /** Estimated epoch ms of the next attempt; null while an attempt is in flight. */
  const nextRetryAt = ref<number | null>(null)
  const rttMs = ref<number | null>(null)
  const heartbeatFailed = ref(false)
  const role = ref<Role | null>(null)
  const serverVersion = ref<string | null>(null)
  /** Server clock minus ours, so ages of server timestamps are right on a skewed client. */
  const clockOffsetMs = ref(0)
  const url = ref<string | null>(null)
  const source = ref<EndpointSource | null>(null)
  const tokenProblem = ref<TokenProblem>(null)
  const lastError = ref<ConnectionError | null>(null)
  const lastPollAt = ref<number | null>(null)
  /** Newest last, at most `HISTORY_LIMIT`. */
  const history = shallowRef<Transition[]>([])

  const transport = computed(() => (state.value === 'polling' ? 'rest' : socketTransport.value))
  const quality = computed<LinkQuality>(() => (heartbeatFailed.value ? 'poor' : classifyRtt(rttMs.value)))
  const canCommand = computed(() => state.value === 'connected' && role.value === 'operator')

  let socket: DashboardSocket | null = null
  let token: string | null = null
  let heartbeat: Heartbeat | null = null
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let poller: SnapshotPoller | null = null
  /** Whether the last REST poll reached the server; null before the first answer. */
  let pollReachable: boolean | null = null
  /** The Manager's attempt in flight; 0 while a first open (not a retry) is in flight. */
  let attemptInFlight = 0
  /** The server process the swarm store's state came from, to resume only on the same one. */
  let serverInstance: string | null = null
  let hashListener: (() => void) | null = null
  const watchedEngines = new WeakSet<object>()

  function setState(next: ConnectionState, reason: string): void {
    const from = state.value
    if (from === next) return
    state.value = next
    history.value = [...history.value.slice(-(HISTORY_LIMIT - 1)), { at: Date.now(), from, to: next, reason }]
  }

  function recordError(message: string): void {
    lastError.value = { at: Date.now(), message }
  }

  /** Finds the endpoint and token, then connects; without a token, asks for one. */
  async function start(): Promise<void> {
    try {
      const endpoint = await discoverEndpoint()
      url.value = endpoint.url
      source.value = endpoint.source
      token = endpoint.token
    } catch (error) {
      recordError(`cannot find the server: ${error instanceof Error ? error.message : String(error)}`)
      setState('error', 'endpoint discovery failed')
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

  function connect(): void {
    if (!url.value || !token) return
    teardown()
    tokenProblem.value = null
    attempt.value = 0
    attemptInFlight = 0
    nextRetryAt.value = null
    setState('connecting', 'connect requested')

    const s: DashboardSocket = io(`${url.value}/dashboard`, {
      // Asked again on every (re)connect: resume after the last event applied, on the same server process.
      auth: (callback) =>
        callback(
          swarm.hasSnapshot && serverInstance
            ? { token, sinceSeq: swarm.lastSeq, instance: serverInstance }
            : { token },
        ),
      forceNew: true,
      reconnectionDelay: RECONNECT.delayMs,
      reconnectionDelayMax: RECONNECT.delayMaxMs,
      randomizationFactor: RECONNECT.randomizationFactor,
    })
    socket = s

    s.on('connect', () => {
      clearTimeout(retryTimer)
      stopPolling()
      attempt.value = 0
      attemptInFlight = 0
      nextRetryAt.value = null
      heartbeatFailed.value = false
      watchEngine(s)
      setState('connected', `connected over ${socketTransport.value}`)
      beginHeartbeat(s)
    })

    s.on('disconnect', (reason) => {
      stopHeartbeat()
      rttMs.value = null
      if (reason === 'io client disconnect') {
        setState('disconnected', 'closed by this page')
        return
      }
      recordError(`connection lost: ${reason}`)
      if (reason === 'io server disconnect') {
        // The server closed this session on purpose; Socket.IO will not retry by itself.
        scheduleManualRetry(s, 'the server closed the connection')
        return
      }
      attemptInFlight = 0
      attempt.value = 1
      nextRetryAt.value = Date.now() + retryDelay(1)
      setState('reconnecting', `connection lost: ${reason}`)
    })

    s.on('connect_error', (error) => {
      recordError(error.message)
      if (!s.active) {
        // Refused by the server's middleware: Socket.IO does not retry these.
        if (isTokenRefusal(error.message)) {
          tokenProblem.value = 'refused'
          setState('error', `token refused (${error.message})`)
          teardown()
          return
        }
        scheduleManualRetry(s, `refused by the server: ${error.message}`)
        return
      }
      if (attemptInFlight === 0) {
        // A first open failed (not a retry: those end in reconnect_error);
        // the Manager now waits one delay before attempt 1.
        attempt.value = 1
        nextRetryAt.value = Date.now() + retryDelay(1)
        if (state.value === 'connecting') setState('reconnecting', `cannot connect: ${error.message}`)
      }
    })

    s.on('welcome', (welcome) => {
      role.value = welcome.role
      serverVersion.value = welcome.version
      clockOffsetMs.value = welcome.serverTime - Date.now()
      serverInstance = welcome.instance
    })
    s.on('snapshot', (snapshot) => swarm.applySnapshot(snapshot))
    s.on('events', (events) => {
      swarm.enqueueEvents(events)
      notifyCriticalAlerts(events)
    })

    s.io.on('reconnect_attempt', (n) => {
      attemptInFlight = n
      attempt.value = n
      nextRetryAt.value = null
      if (state.value !== 'polling') setState('reconnecting', `attempt ${n}`)
    })
    s.io.on('reconnect_error', (error) => {
      const failed = attemptInFlight
      recordError(`attempt ${failed} failed: ${error.message}`)
      // The Manager has already scheduled the next attempt with this delay (before jitter).
      attempt.value = failed + 1
      nextRetryAt.value = Date.now() + retryDelay(failed + 1)
      if (failed >= RECONNECT.pollAfterAttempts) startPolling(failed)
    })
  }

  /** Closes the connection on purpose and stops retrying. */
  function disconnect(): void {
    teardown()
    setState('disconnected', 'disconnected by the user')
  }

  function teardown(): void {
    clearTimeout(retryTimer)
    stopHeartbeat()
    stopPolling()
    if (socket) {
      const old = socket
      socket = null
      old.removeAllListeners()
      old.io.off('reconnect_attempt').off('reconnect_error')
      old.disconnect()
    }
    rttMs.value = null
    nextRetryAt.value = null
  }

  function scheduleManualRetry(s: DashboardSocket, reason: string): void {
    attempt.value += 1
    const delay = retryDelay(attempt.value)
    nextRetryAt.value = Date.now() + delay
    setState(state.value === 'connecting' ? 'error' : 'reconnecting', reason)
    clearTimeout(retryTimer)
    retryTimer = setTimeout(() => {
      if (socket !== s) return
      nextRetryAt.value = null
      s.connect()
    }, delay)
  }

  function watchEngine(s: DashboardSocket): void {
    const engine = s.io.engine
    socketTransport.value = engine.transport.name === 'websocket' ? 'websocket' : 'polling'
    if (watchedEngines.has(engine)) return
    watchedEngines.add(engine)
    engine.on('upgrade', (upgraded) => {
      if (socket !== s) return
      socketTransport.value = upgraded.name === 'websocket' ? 'websocket' : 'polling'
    })
  }

  function beginHeartbeat(s: DashboardSocket): void {
    heartbeat?.stop()
    heartbeat = startHeartbeat(s, {
      onAnswer(rtt, offset) {
        rttMs.value = Math.round(rtt)
        heartbeatFailed.value = false
        if (offset !== null) clockOffsetMs.value = offset
      },
      onTimeout() {
        heartbeatFailed.value = true
        recordError(`heartbeat: no answer within ${HEARTBEAT.timeoutMs / 1000} s`)
      },
    })
  }

  function stopHeartbeat(): void {
    heartbeat?.stop()
    heartbeat = null
  }

  function startPolling(failedAttempts: number): void {
    if (poller || !url.value || !token) return
    setState('polling', `no connection after ${failedAttempts} attempts: polling GET /api/snapshot`)
    pollReachable = null
    poller = startSnapshotPoller({
      url: url.value,
      token,
      intervalMs: RECONNECT.pollIntervalMs,
      onSnapshot: (snapshot) => {
        lastPollAt.value = Date.now()
        swarm.applySnapshot(snapshot)
        // The server answers again: try the socket now rather than at the
        // end of a backoff delay of up to 30 s. Once per recovery, so a
        // proxy that passes REST but not Socket.IO does not cause a storm.
        if (pollReachable !== true) retrySocketNow()
        pollReachable = true
      },
      onError: (message, status) => {
        recordError(message)
        if (status === null || status >= 500) pollReachable = false
      },
    })
  }

  function stopPolling(): void {
    poller?.stop()
    poller = null
  }

  /** Starts a fresh attempt at once; Socket.IO's backoff starts over from its first delay. */
  function retrySocketNow(): void {
    const s = socket
    if (!s || s.connected) return
    attemptInFlight = 0
    nextRetryAt.value = null
    s.disconnect()
    s.connect()
  }

  /** Sends an operator command. Only while connected; a later version queues them. */
  async function command<N extends CommandName>(name: N, payload: CommandRequest<N>): Promise<Result<CommandData<N>>> {
    const s = socket
    if (!s || !s.connected || state.value !== 'connected') {
      return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    }
    try {
      return await emitCommand(s, name, payload)
    } catch {
      return { ok: false, error: { code: 'unavailable', message: `no answer within ${COMMAND_TIMEOUT_MS / 1000} s` } }
    }
  }

  /** `GET /api/tasks/:id`: the task with its transitions and its stored log lines. */
  async function fetchTaskDetail(taskId: string): Promise<Result<TaskDetail>> {
    if (!url.value || !token) return { ok: false, error: { code: 'unavailable', message: 'not connected' } }
    return getTaskDetail(url.value, token, taskId)
  }

  return {
    state,
    transport,
    socketTransport,
    attempt,
    nextRetryAt,
    rttMs,
    quality,
    role,
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
    disconnect,
    command,
    fetchTaskDetail,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useConnectionStore, import.meta.hot))
