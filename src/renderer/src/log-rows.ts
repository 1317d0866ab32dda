/**
 * The Logs view's rows, pure: the filter as the user set it (read once into
 * what the live lines are checked with and what the history is asked for),
 * and the stored lines and the live tail merged into one list, oldest first.
 *
 * A line can be in both: the history commits within 100 ms and the live logs
 * channel batches for a second, so the newest stored page may hold lines the
 * page is about to receive. Such a stored line is dropped where it meets the
 * live tail (same task, time, level and text), so it shows once.
 */
import type { LogLevel } from '../../shared/events'
import type { HistoryLogLine, LogHistoryFilter } from '../../shared/history-api'
import type { SwarmLogLine } from '../../shared/log-tail'
import { matchesSearch, parseSearch, type SearchTerm } from '../../shared/search'
import { LOG_LEVELS } from './statuses'

/** What the Logs view's controls hold (ui store `logFilter`). */
export interface LogFilterInput {
  text: string
  levels: readonly LogLevel[]
  agentId: string
  taskId: string
  /** `datetime-local` values, local time; empty: no bound. */
  since: string
  until: string
}

export interface LogRow {
  key: string
  /** The live line's seq; null for a line read from the history. */
  seq: number | null
  at: number
  level: LogLevel
  message: string
  taskId: string
  agentId: string | null
}

export interface LogFilter {
  terms: readonly SearchTerm[] | null
  levels: ReadonlySet<LogLevel>
  agentId: string
  taskId: string
  since: number | null
  until: number | null
  /** Why the text is not searched, when it is not (said beside the search box). */
  problem: string | null
  /** The same, for `GET /api/logs`. */
  history: LogHistoryFilter
}

function moment(value: string): number | null {
  if (!value) return null
  const ms = new Date(value).getTime()
  return Number.isNaN(ms) ? null : ms
}

export function readLogFilter(input: LogFilterInput): LogFilter {
  const text = input.text.trim()
  const parsed = text ? parseSearch(text) : null
  const terms = parsed?.ok ? parsed.terms : null
  const since = moment(input.since)
  const until = moment(input.until)
  const taskId = input.taskId.trim()
  const allLevels = input.levels.length === LOG_LEVELS.length
  return {
    terms,
    levels: new Set(input.levels),
    agentId: input.agentId,
    taskId,
    since,
    until,
    problem: parsed && !parsed.ok ? parsed.problem.replace(/^q /, 'the search ') : null,
    history: {
      q: terms ? text : undefined,
      task: taskId || undefined,
      agent: input.agentId || undefined,
      level: allLevels ? undefined : [...input.levels],
      since: since ?? undefined,
      until: until ?? undefined,
    },
  }
}

/** Whether nothing narrows the lines (every line shows). */
export function filtersNothing(filter: LogFilter): boolean {
  return (
    !filter.terms &&
    filter.levels.size === LOG_LEVELS.length &&
    !filter.agentId &&
    !filter.taskId &&
    filter.since === null &&
    filter.until === null
  )
}

export function matchesLine(line: SwarmLogLine, filter: LogFilter): boolean {
  return (
    filter.levels.has(line.level) &&
    (!filter.agentId || line.agentId === filter.agentId) &&
    (!filter.taskId || line.taskId === filter.taskId) &&
    (filter.since === null || line.at >= filter.since) &&
    (filter.until === null || line.at < filter.until) &&
    (!filter.terms || matchesSearch(line.message, filter.terms))
  )
}

const sameLine = (line: { taskId: string; at: number; level: LogLevel; message: string }) =>
  `${line.taskId}\u0000${line.at}\u0000${line.level}\u0000${line.message}`

export function liveRow(line: SwarmLogLine): LogRow {
  return { ...line, key: `l${line.seq}` }
}

/** Stored lines (newest first) before the live ones (oldest first), each line once. */
export function mergeRows(stored: readonly HistoryLogLine[], live: readonly SwarmLogLine[]): LogRow[] {
  const firstLive = live[0]?.at ?? Infinity
  const liveLines = new Set<string>()
  for (const line of live) {
    if (line.at > firstLive + 5000) break
    liveLines.add(sameLine(line))
  }
  const rows: LogRow[] = []
  for (let i = stored.length - 1; i >= 0; i--) {
    const line = stored[i]!
    if (line.at >= firstLive && liveLines.has(sameLine(line))) continue
    rows.push({ ...line, key: `h${line.id}`, seq: null })
  }
  for (const line of live) rows.push(liveRow(line))
  return rows
}
