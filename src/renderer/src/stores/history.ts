/**
 * The stored history as the dashboard reads it over HTTP: pages of log lines
 * for the Logs view (newest first; older pages as the user scrolls back) and
 * the tasks export. One page request at a time; an answer for a filter the
 * view has left since is dropped. What the page holds is bounded
 * (`MAX_LOG_LINES`).
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import {
  HISTORY_API_LIMITS,
  historyQueryString,
  type ExportFormat,
  type HistoryLogLine,
  type LogHistoryFilter,
  type LogListAnswer,
  type TaskHistoryFilter,
} from '../../../shared/history-api'
import { LOG_LEVELS } from '../statuses'
import type { Result } from '../../../shared/result'
import { useConnectionStore } from './connection'

/** Stored lines the Logs view keeps at most; scrolling back stops there (narrow the filter to go further). */
export const MAX_LOG_LINES = 50_000
const PAGE = HISTORY_API_LIMITS.linesPerPage.default

export type LogHistoryState = 'idle' | 'loading' | 'end' | 'full' | 'error'

function isLine(value: unknown): value is HistoryLogLine {
  const line = value as Partial<HistoryLogLine> | null
  return (
    typeof line === 'object' &&
    line !== null &&
    typeof line.id === 'number' &&
    typeof line.taskId === 'string' &&
    typeof line.at === 'number' &&
    typeof line.message === 'string' &&
    (LOG_LEVELS as readonly unknown[]).includes(line.level) &&
    (line.agentId === null || typeof line.agentId === 'string')
  )
}

function parseLogPage(body: unknown): LogListAnswer | null {
  const page = body as Partial<LogListAnswer> | null
  if (typeof page !== 'object' || page === null || !Array.isArray(page.lines) || !page.lines.every(isLine)) return null
  return { lines: page.lines, next: typeof page.next === 'string' ? page.next : null }
}

export const useHistoryStore = defineStore('history', () => {
  /** Stored lines of the current filter, newest first. */
  const logLines = shallowRef<readonly HistoryLogLine[]>([])
  const logState = ref<LogHistoryState>('idle')
  const logError = ref<string | null>(null)
  const exporting = ref(false)
  let filter: LogHistoryFilter | null = null
  let next: string | null = null
  let generation = 0

  /** Forgets the lines read so far and reads the newest page for `nextFilter`. */
  function startLogs(nextFilter: LogHistoryFilter): Promise<void> {
    generation++
    filter = nextFilter
    next = null
    logLines.value = []
    logError.value = null
    logState.value = 'idle'
    return moreLogs()
  }

  /** Forgets the lines read so far without reading (the view left, or live lines caught up with them). */
  function clearLogs(): void {
    generation++
    filter = null
    logLines.value = []
    logState.value = 'idle'
    logError.value = null
  }

  /** Reads the next older page, unless one is on its way or there is none. */
  async function moreLogs(): Promise<void> {
    if (!filter || logState.value === 'loading' || logState.value === 'end' || logState.value === 'full') return
    const mine = generation
    logState.value = 'loading'
    const path = `/api/logs?${historyQueryString(filter, { limit: PAGE, cursor: next ?? undefined })}`
    const answer = await useConnectionStore().readApi(path, parseLogPage)
    if (mine !== generation) return
    if (!answer.ok) {
      logError.value = answer.error.message
      logState.value = 'error'
      return
    }
    logLines.value = [...logLines.value, ...answer.data.lines]
    next = answer.data.next
    logState.value = next === null ? 'end' : logLines.value.length >= MAX_LOG_LINES ? 'full' : 'idle'
  }

  /** The stored tasks `taskFilter` matches, as a file (the whole of it, in this page's memory). */
  async function exportTasks(
    taskFilter: TaskHistoryFilter,
    format: ExportFormat,
  ): Promise<Result<{ blob: Blob; filename: string }>> {
    exporting.value = true
    try {
      return await useConnectionStore().downloadApi(`/api/tasks/export?${historyQueryString(taskFilter, { format })}`)
    } finally {
      exporting.value = false
    }
  }

  return { logLines, logState, logError, exporting, startLogs, clearLogs, moreLogs, exportTasks }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useHistoryStore, import.meta.hot))
