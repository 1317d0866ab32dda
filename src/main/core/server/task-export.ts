/**
 * Tasks as CSV or JSON Lines, a page at a time: the export's text, made as
 * the database hands out pages (`TaskHistory.scan`), so what is held is one
 * page, whatever the number of rows.
 *
 * CSV follows RFC 4180: a header row, CRLF line ends, a field holding a
 * comma, a double quote, CR or LF in double quotes with its quotes doubled;
 * UTF-8 without a byte-order mark. Against formula injection (CSV opened in
 * a spreadsheet), a text field that starts with `=`, `+`, `-`, `@`, a tab or
 * a CR gets a leading `'`, so it shows as text and is never evaluated (the
 * OWASP advice); numbers and times this server writes are left as they are.
 * JSON Lines: each task exactly as `GET /api/tasks` gives it, one per line.
 */
import type { Task } from '../../../shared/domain'
import type { ExportFormat } from '../../../shared/history-api'

/** The CSV columns, in order; `agentName` is the agent's name as the dashboard shows it, when the server knows it. */
export const CSV_COLUMNS = [
  'id',
  'name',
  'kind',
  'status',
  'priority',
  'agentId',
  'agentName',
  'attempts',
  'requeues',
  'maxRetries',
  'progress',
  'createdAt',
  'startedAt',
  'finishedAt',
  'durationMs',
  'timeoutMs',
  'capabilities',
  'error',
  'result',
  'payload',
] as const

type Cell = string | number | null

const FORMULA_START = /^[=+\-@\t\r]/

/** One CSV field: neutralised when it could be read as a formula, quoted when RFC 4180 says so. */
export function csvField(cell: Cell): string {
  if (cell === null) return ''
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : ''
  let text = cell.replaceAll('\u0000', '\uFFFD')
  if (FORMULA_START.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

const iso = (ms: number | null): Cell => (ms === null ? null : new Date(ms).toISOString())

function json(value: unknown): Cell {
  if (value === null || value === undefined) return null
  try {
    return JSON.stringify(value) ?? null
  } catch {
    return null
  }
}

export function csvRow(task: Task, agentName: (agentId: string) => string | undefined): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], Cell> = {
    id: task.id,
    name: task.name,
    kind: task.kind,
    status: task.status,
    priority: task.priority,
    agentId: task.agentId,
    agentName: task.agentId ? (agentName(task.agentId) ?? null) : null,
    attempts: task.attempts,
    requeues: task.requeues,
    maxRetries: task.maxRetries,
    progress: task.progress,
    createdAt: iso(task.createdAt),
    startedAt: iso(task.startedAt),
    finishedAt: iso(task.finishedAt),
    durationMs: task.startedAt !== null && task.finishedAt !== null ? task.finishedAt - task.startedAt : null,
    timeoutMs: task.timeoutMs,
    capabilities: task.capabilities.join(' '),
    error: task.error,
    result: json(task.result),
    payload: json(task.payload),
  }
  return `${CSV_COLUMNS.map((column) => csvField(cells[column])).join(',')}\r\n`
}

export const EXPORT_CONTENT_TYPE: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  jsonl: 'application/jsonl; charset=utf-8',
}

/** The export's text, chunk by chunk: the first page (already read, so errors could still be answered) and the rest. */
export async function* exportChunks(
  format: ExportFormat,
  first: readonly Task[],
  rest: AsyncIterator<Task[], void, undefined>,
  agentName: (agentId: string) => string | undefined,
): AsyncGenerator<string, void, undefined> {
  const render = (page: readonly Task[]) =>
    format === 'csv'
      ? page.map((task) => csvRow(task, agentName)).join('')
      : page.map((t) => `${JSON.stringify(t)}\n`).join('')
  try {
    if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`
    if (first.length > 0) yield render(first)
    for (let page = await rest.next(); !page.done; page = await rest.next()) yield render(page.value)
  } finally {
    // A client that went away ends the reading too.
    await rest.return?.()
  }
}
