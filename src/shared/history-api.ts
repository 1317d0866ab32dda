/**
 * The history's HTTP surface, zod-free (the dashboard imports it): the
 * answers of `GET /api/tasks`, `GET /api/logs` and the export, their bounds,
 * and the query strings, built in one place for the dashboard, the tests and
 * scripts. The server's schemas (`server/history-query.ts`) check the same
 * names and bounds.
 */
import type { Task, TaskStatus } from './domain'
import type { LogLevel } from './statuses'

export const HISTORY_API_LIMITS = {
  /** Tasks a page of `GET /api/tasks` holds: default and most. */
  tasksPerPage: { default: 100, max: 1000 },
  /** Lines a page of `GET /api/logs` holds: default and most. */
  linesPerPage: { default: 200, max: 1000 },
  /** Exports running at once, all clients together; one more is refused (`429`). */
  concurrentExports: 4,
  /** Tasks an export reads from the database at a time. */
  exportPageSize: 500,
} as const

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export interface RetentionAnswer {
  maxTasks: number
  maxAgeMs: number
  droppedTotal: number
  lastPrunedAt: number | null
}

/**
 * `GET /api/tasks`. `source` says where it came from: `memory` (the live
 * tasks, the demo swarm's included: the plain `status`/`agent`/`limit` query)
 * or `history` (the database: whenever `q`, `kind`, `since`, `until`,
 * `cursor` or several statuses are asked for).
 */
export interface TaskListAnswer {
  tasks: Task[]
  total: number
  /** The `cursor` of the next page; always null from memory. */
  next: string | null
  source: 'memory' | 'history'
  retention: RetentionAnswer
}

/** One stored log line, as `GET /api/logs` gives it. */
export interface HistoryLogLine {
  /** Larger is later; lines of the demo swarm and lines of no task are not stored. */
  id: number
  taskId: string
  /** The agent that sent it; for lines stored before schema version 3, the task's last agent. */
  agentId: string | null
  at: number
  level: LogLevel
  message: string
}

export interface LogListAnswer {
  /** Newest first. */
  lines: HistoryLogLine[]
  next: string | null
}

/** What the dashboard and scripts filter the stored tasks by (all optional). */
export interface TaskHistoryFilter {
  q?: string
  status?: readonly TaskStatus[]
  kind?: string
  agent?: string
  /** Epoch ms: created at or after. */
  since?: number
  /** Epoch ms: created before. */
  until?: number
}

export interface LogHistoryFilter {
  q?: string
  task?: string
  agent?: string
  level?: readonly LogLevel[]
  since?: number
  until?: number
}

/** The query string (without `?`) of a filter plus paging or format; empty values are left out. */
export function historyQueryString(
  filter: TaskHistoryFilter | LogHistoryFilter,
  extra: Record<string, string | number | undefined> = {},
): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries({ ...filter, ...extra })) {
    if (value === undefined || value === '') continue
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(key, value.join(','))
    } else params.set(key, String(value))
  }
  return params.toString()
}
