import { computed, ref } from 'vue'
import type { TaskStatus } from '../../../shared/domain'
import type { ExportFormat, TaskHistoryFilter } from '../../../shared/history-api'
import { parseSearch } from '../../../shared/search'
import type { TaskBulkFilter } from '../../../shared/task-bulk'
import { saveFile } from '../download'
import { TASK_STATUS_LIST, isTerminalStatus } from '../statuses'
import { useHistoryStore } from '../stores/history'
import type { TaskFilter } from '../stores/ui.route'

/** The statuses a Tasks view status choice stands for; none: any. */
function statusesOf(status: TaskFilter['status']): TaskStatus[] {
  if (status === 'all') return []
  return status === 'active' ? TASK_STATUS_LIST.filter((s) => !isTerminalStatus(s)) : [status]
}

/**
 * The Tasks view's filters as the server reads them: for the export (the
 * history's word search, over everything stored) and for a bulk action (the
 * view's own rule, `matchesBulkFilter`, over the tasks the server holds).
 */
export function useTaskQueries(filter: TaskFilter) {
  const history = useHistoryStore()
  const exportNotice = ref<{ ok: boolean; text: string } | null>(null)

  /** The text is searched as words, over the whole history. */
  const exportFilter = computed<{ filter: TaskHistoryFilter } | { problem: string }>(() => {
    const text = filter.text.trim()
    if (text) {
      const parsed = parseSearch(text)
      if (!parsed.ok) return { problem: parsed.problem.replace(/^q /, 'the text filter ') }
    }
    return { filter: { q: text || undefined, status: statusesOf(filter.status), agent: filter.agentId || undefined } }
  })

  const bulkFilter = computed<TaskBulkFilter>(() => {
    const text = filter.text.trim()
    const statuses = statusesOf(filter.status)
    return {
      ...(statuses.length ? { status: statuses } : {}),
      ...(filter.agentId ? { agent: filter.agentId } : {}),
      ...(text ? { text } : {}),
    }
  })

  async function exportAs(format: ExportFormat): Promise<void> {
    const asked = exportFilter.value
    if ('problem' in asked) {
      exportNotice.value = { ok: false, text: `Cannot export: ${asked.problem}` }
      return
    }
    exportNotice.value = { ok: true, text: 'Exporting…' }
    const file = await history.exportTasks(asked.filter, format)
    if (!file.ok) {
      exportNotice.value = { ok: false, text: `Export failed: ${file.error.message}` }
      return
    }
    saveFile(file.data.blob, file.data.filename)
    exportNotice.value = { ok: true, text: `Saved ${file.data.filename}` }
  }

  return { history, exportNotice, exportAs, bulkFilter }
}
