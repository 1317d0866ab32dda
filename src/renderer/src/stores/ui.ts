/// <reference types="vite/client" />
/**
 * What the user is looking at: the view, the open detail drawer, filters
 * and sort orders, chart window, preferences. Views are mounted only while
 * shown, so their filters live here and survive switching tabs.
 *
 * The view and the open task or agent are in the URL fragment, beside the
 * token (`#view=tasks&task=t-42&token=…`), so links and the back button work.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { AgentStatus, AlertSeverity, TaskStatus } from '../../../shared/domain'
import type { LogLevel } from '../../../shared/events'
import { LOG_LEVELS } from '../statuses'

export const VIEWS = ['overview', 'agents', 'tasks', 'logs', 'alerts'] as const
export type ViewName = (typeof VIEWS)[number]

export const VIEW_LABELS: Record<ViewName, string> = {
  overview: 'Overview',
  agents: 'Agents',
  tasks: 'Tasks',
  logs: 'Logs',
  alerts: 'Alerts',
}

export type ChartWindow = '5m' | '1h'
export const CHART_WINDOW_MS: Record<ChartWindow, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 }

export type AgentSortKey = 'name' | 'status' | 'kind' | 'task' | 'done' | 'failed' | 'cpu' | 'memory' | 'heartbeat'
export type TaskStatusFilter = 'all' | 'active' | TaskStatus

export const FINISHED_LIMIT_CHOICES = [500, 5000, 50_000, 100_000] as const

const STORAGE = {
  finishedLimit: 'swarm-monitor.finished-limit',
  chartWindow: 'swarm-monitor.chart-window',
  notifications: 'swarm-monitor.browser-notifications',
}

/*
 * The browser, looked up through globalThis: the unit tests compile this
 * store without DOM types and run it without a window (as frame.ts does).
 */
interface BrowserWindow {
  location: { hash: string }
  addEventListener(type: 'hashchange', listener: () => void): void
}
interface KeyValueStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
}
const env = globalThis as { window?: BrowserWindow; localStorage?: KeyValueStorage }

function stored(key: string): string | null {
  try {
    return env.localStorage?.getItem(key) ?? null
  } catch {
    return null
  }
}

function store(key: string, value: string): void {
  try {
    env.localStorage?.setItem(key, value)
  } catch {
    // Private mode or storage disabled: the preference lasts for this page only.
  }
}

export function parseRoute(hash: string): { view: ViewName; task: string | null; agent: string | null } {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const view = params.get('view')
  return {
    view: (VIEWS as readonly string[]).includes(view ?? '') ? (view as ViewName) : 'overview',
    task: params.get('task') || null,
    agent: params.get('agent') || null,
  }
}

export const useUiStore = defineStore('ui', () => {
  const view = ref<ViewName>('overview')
  const selectedTaskId = ref<string | null>(null)
  const selectedAgentId = ref<string | null>(null)
  const shortcutsOpen = ref(false)
  const submitOpen = ref(false)

  const storedWindow = stored(STORAGE.chartWindow)
  const chartWindow = ref<ChartWindow>(storedWindow === '1h' ? '1h' : '5m')
  const storedLimit = Number(stored(STORAGE.finishedLimit))
  const finishedLimit = ref<number>(
    (FINISHED_LIMIT_CHOICES as readonly number[]).includes(storedLimit) ? storedLimit : FINISHED_LIMIT_CHOICES[0],
  )
  const browserNotifications = ref(stored(STORAGE.notifications) === 'on')

  const agentFilter = reactive({ text: '', status: 'all' as 'all' | AgentStatus, capability: '' })
  const agentSort = reactive({ key: 'name' as AgentSortKey, descending: false })
  const taskFilter = reactive({ text: '', status: 'all' as TaskStatusFilter, agentId: '' })
  // since/until: `datetime-local` values (local time), empty for no bound.
  const logFilter = reactive({
    text: '',
    levels: [...LOG_LEVELS] as LogLevel[],
    agentId: '',
    taskId: '',
    since: '',
    until: '',
  })
  const alertFilter = reactive({ showResolved: true, severity: 'all' as 'all' | AlertSeverity })

  let listening = false

  /** Reads the fragment into the state, and follows it from now on (back/forward, edited links). */
  function startRouting(): void {
    const win = env.window
    if (!win) return
    applyRoute(win.location.hash)
    if (listening) return
    listening = true
    win.addEventListener('hashchange', () => applyRoute(win.location.hash))
  }

  function applyRoute(hash: string): void {
    const route = parseRoute(hash)
    view.value = route.view
    selectedTaskId.value = route.task
    selectedAgentId.value = route.agent
  }

  /** Writes the state into the fragment, keeping the token and anything else there. */
  function writeRoute(): void {
    const win = env.window
    if (!win) return
    const params = new URLSearchParams(win.location.hash.replace(/^#/, ''))
    const set = (key: string, value: string | null) => (value ? params.set(key, value) : params.delete(key))
    set('view', view.value === 'overview' ? null : view.value)
    set('task', selectedTaskId.value)
    set('agent', selectedAgentId.value)
    const next = params.toString()
    if (next !== win.location.hash.replace(/^#/, '')) win.location.hash = next
  }

  function navigate(next: ViewName): void {
    view.value = next
    selectedTaskId.value = null
    selectedAgentId.value = null
    writeRoute()
  }

  function openTask(taskId: string): void {
    selectedTaskId.value = taskId
    selectedAgentId.value = null
    writeRoute()
  }

  function openAgent(agentId: string): void {
    selectedAgentId.value = agentId
    selectedTaskId.value = null
    writeRoute()
  }

  function closeDetail(): void {
    selectedTaskId.value = null
    selectedAgentId.value = null
    writeRoute()
  }

  function setChartWindow(next: ChartWindow): void {
    chartWindow.value = next
    store(STORAGE.chartWindow, next)
  }

  function setFinishedLimit(limit: number): void {
    finishedLimit.value = limit
    store(STORAGE.finishedLimit, String(limit))
  }

  function setBrowserNotifications(on: boolean): void {
    browserNotifications.value = on
    store(STORAGE.notifications, on ? 'on' : 'off')
  }

  function sortAgentsBy(key: AgentSortKey): void {
    if (agentSort.key === key) agentSort.descending = !agentSort.descending
    else {
      agentSort.key = key
      // Figures read best largest first; names and states A to Z.
      agentSort.descending = ['done', 'failed', 'cpu', 'memory', 'heartbeat'].includes(key)
    }
  }

  return {
    view,
    selectedTaskId,
    selectedAgentId,
    shortcutsOpen,
    submitOpen,
    chartWindow,
    finishedLimit,
    browserNotifications,
    agentFilter,
    agentSort,
    taskFilter,
    logFilter,
    alertFilter,
    startRouting,
    navigate,
    openTask,
    openAgent,
    closeDetail,
    setChartWindow,
    setFinishedLimit,
    setBrowserNotifications,
    sortAgentsBy,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useUiStore, import.meta.hot))
