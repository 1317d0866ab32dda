/// <reference types="vite/client" />
/**
 * What the user is looking at: the view, the open detail drawer, filters
 * and sort orders, chart window, preferences. Views are mounted only while
 * shown, so their filters live here and survive switching tabs.
 *
 * The view, the open task or agent, the workflow whose graph the Workflows
 * view shows, and the filters, search and sort of the Tasks, Agents and Logs
 * views are in the URL fragment, beside the token
 * (`#view=tasks&tasks.status=failed&task=t-42&token=…`), so a link
 * reproduces what it showed and the back button works (ui.route.ts has the
 * parameters). Switching views and opening details add a history entry;
 * typing in a filter replaces the current one.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { reactive, ref, watch } from 'vue'
import type { AlertSeverity } from '../../../shared/domain'
import { METRIC_RANGE_SPEC, METRIC_RANGES, type MetricRange } from '../../../shared/metric-ranges'
import { SAVED_VIEW_PAGES, type SavedViewInput, type SavedViewPage } from '../../../shared/saved-views'
import { defaultViewState, isViewParam, viewParams, viewStateOf, type AgentSortKey } from './ui.route'

export type { AgentSortKey, TaskStatusFilter } from './ui.route'

export const VIEWS = ['overview', 'agents', 'tasks', 'workflows', 'logs', 'alerts', 'audit', 'cluster'] as const
export type ViewName = (typeof VIEWS)[number]

export const VIEW_LABELS: Record<ViewName, string> = {
  overview: 'Overview',
  agents: 'Agents',
  tasks: 'Tasks',
  workflows: 'Workflows',
  logs: 'Logs',
  alerts: 'Alerts',
  audit: 'Audit',
  cluster: 'Cluster',
}

/** The Overview's chart ranges: the last 5 min, hour, day or week. */
export type ChartWindow = MetricRange
export const CHART_WINDOWS = METRIC_RANGES
export const CHART_WINDOW_MS: Record<ChartWindow, number> = Object.fromEntries(
  METRIC_RANGES.map((range) => [range, METRIC_RANGE_SPEC[range].spanMs]),
) as Record<ChartWindow, number>

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
  location: { hash: string; href: string }
  history: { replaceState(data: unknown, unused: string, url: string): void }
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

export interface Route {
  view: ViewName
  task: string | null
  agent: string | null
  /** The workflow open in the Workflows view (`workflow=…`, read there only). */
  workflow: string | null
}

export function parseRoute(hash: string): Route {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const name = params.get('view')
  const view = (VIEWS as readonly string[]).includes(name ?? '') ? (name as ViewName) : 'overview'
  return {
    view,
    task: params.get('task') || null,
    agent: params.get('agent') || null,
    workflow: (view === 'workflows' && params.get('workflow')) || null,
  }
}

const isPage = (view: ViewName): view is SavedViewPage => (SAVED_VIEW_PAGES as readonly string[]).includes(view)

/** A link to what `hash` shows, for someone else: the same URL without its token. */
export function shareableUrl(href: string): string {
  const [base, hash = ''] = href.split('#', 2) as [string, string?]
  const params = new URLSearchParams(hash)
  params.delete('token')
  const rest = params.toString()
  return rest ? `${base}#${rest}` : base
}

export const useUiStore = defineStore('ui', () => {
  const view = ref<ViewName>('overview')
  const selectedTaskId = ref<string | null>(null)
  const selectedAgentId = ref<string | null>(null)
  /** Kept while other views are shown, so coming back to Workflows finds the graph left (and the link says it). */
  const selectedWorkflowId = ref<string | null>(null)
  const shortcutsOpen = ref(false)
  const submitOpen = ref(false)

  const storedWindow = stored(STORAGE.chartWindow)
  const chartWindow = ref<ChartWindow>(
    (METRIC_RANGES as readonly string[]).includes(storedWindow ?? '') ? (storedWindow as ChartWindow) : '5m',
  )
  /** The span the charts are zoomed to (epoch ms), by dragging over one; null: the whole range, following live. */
  const chartZoom = ref<{ from: number; to: number } | null>(null)
  const storedLimit = Number(stored(STORAGE.finishedLimit))
  const finishedLimit = ref<number>(
    (FINISHED_LIMIT_CHOICES as readonly number[]).includes(storedLimit) ? storedLimit : FINISHED_LIMIT_CHOICES[0],
  )
  const browserNotifications = ref(stored(STORAGE.notifications) === 'on')

  const initial = defaultViewState()
  const agentFilter = reactive(initial.agents.filter)
  const agentSort = reactive(initial.agents.sort)
  const taskFilter = reactive(initial.tasks.filter)
  const logFilter = reactive(initial.logs.filter)
  /** Each view's state as the route parameters read and write it. */
  const viewState = {
    tasks: { filter: taskFilter },
    agents: { filter: agentFilter, sort: agentSort },
    logs: { filter: logFilter },
  }
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
    if (route.view === 'workflows') selectedWorkflowId.value = route.workflow
    // The shown view's filters are what the link says: absent ones are the defaults.
    const params = new URLSearchParams(hash.replace(/^#/, ''))
    if (isPage(route.view)) assignViewState(route.view, viewStateOf(route.view, params))
  }

  function assignViewState<P extends SavedViewPage>(page: P, next: ReturnType<typeof viewStateOf<P>>): void {
    const target = viewState[page] as Record<string, object>
    for (const [part, value] of Object.entries(next as Record<string, object>)) Object.assign(target[part]!, value)
  }

  /** The shown view's filter parameters (none for the views without). */
  function currentViewParams(): Record<string, string> {
    return isPage(view.value) ? viewParams(view.value, viewState[view.value]) : {}
  }

  /**
   * Writes the state into the fragment, keeping the token and anything else
   * there; `replace`: without a new history entry (a filter being typed).
   */
  function writeRoute(mode: 'push' | 'replace' = 'push'): void {
    const win = env.window
    if (!win) return
    const params = new URLSearchParams(win.location.hash.replace(/^#/, ''))
    const set = (key: string, value: string | null) => (value ? params.set(key, value) : params.delete(key))
    set('view', view.value === 'overview' ? null : view.value)
    set('task', selectedTaskId.value)
    set('agent', selectedAgentId.value)
    set('workflow', view.value === 'workflows' ? selectedWorkflowId.value : null)
    for (const key of [...params.keys()]) if (isViewParam(key)) params.delete(key)
    for (const [key, value] of Object.entries(currentViewParams())) params.set(key, value)
    const next = params.toString()
    if (next === win.location.hash.replace(/^#/, '')) return
    if (mode === 'push') win.location.hash = next
    else win.history.replaceState(null, '', `#${next}`)
  }

  // A filter, search or sort changed: the link follows, in place.
  watch([taskFilter, agentFilter, agentSort, logFilter], () => writeRoute('replace'), { deep: true })

  /** What a saved view of the shown view would hold. */
  function savedViewInput(name: string): SavedViewInput | null {
    return isPage(view.value) ? { name, view: view.value, params: currentViewParams() } : null
  }

  /** Shows a saved view: its page with exactly its parameters. */
  function applySavedView(saved: Pick<SavedViewInput, 'view' | 'params'>): void {
    view.value = saved.view
    selectedTaskId.value = null
    selectedAgentId.value = null
    assignViewState(saved.view, viewStateOf(saved.view, saved.params))
    writeRoute('push')
  }

  /** The link to what is shown, without the token. */
  function shareLink(): string | null {
    const win = env.window
    return win ? shareableUrl(win.location.href) : null
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

  /** Shows a workflow's graph; `replace`: in place of the current entry (the view picking one by itself). */
  function openWorkflow(workflowId: string, mode: 'push' | 'replace' = 'push'): void {
    view.value = 'workflows'
    selectedWorkflowId.value = workflowId
    selectedTaskId.value = null
    selectedAgentId.value = null
    writeRoute(mode)
  }

  function setChartWindow(next: ChartWindow): void {
    chartWindow.value = next
    chartZoom.value = null
    store(STORAGE.chartWindow, next)
  }

  /** Zooms every chart to `[from, to)` (epoch ms); null: back to the whole range. */
  function zoomCharts(span: { from: number; to: number } | null): void {
    chartZoom.value = span && span.to > span.from ? span : null
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
    selectedWorkflowId,
    shortcutsOpen,
    submitOpen,
    chartWindow,
    chartZoom,
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
    openWorkflow,
    closeDetail,
    setChartWindow,
    zoomCharts,
    savedViewInput,
    applySavedView,
    shareLink,
    setFinishedLimit,
    setBrowserNotifications,
    sortAgentsBy,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useUiStore, import.meta.hot))
