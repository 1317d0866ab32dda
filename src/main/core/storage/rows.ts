/**
 * What goes to the database and what comes back from it, for both backends.
 * Writes are `Batch`es the recorder made; rows read back are parsed with the
 * schemas here (never cast): a damaged or foreign row is named, not trusted.
 */
import { z } from 'zod'
import { TaskStatusSchema, type Task, type TaskLogLine, type TaskTransition } from '../../../shared/domain'
import { HistoryQueryError, type StoredLogLine, type TaskPage } from './history'

/** One commit's worth of changes. */
export interface Batch {
  /** The latest state of each task changed since the last commit. */
  tasks: Task[]
  transitions: (TaskTransition & { taskId: string })[]
  logs: (TaskLogLine & { taskId: string; agentId: string | null })[]
  /** Log lines beyond the per-task bound, counted per task, not kept. */
  dropped: Map<string, number>
}

export const emptyBatch = (): Batch => ({ tasks: [], transitions: [], logs: [], dropped: new Map() })

/** Kept and dropped log lines a batch adds per task, for the counters on the task rows. */
export function logCounts(batch: Batch): Map<string, { kept: number; dropped: number }> {
  const added = new Map<string, { kept: number; dropped: number }>()
  for (const line of batch.logs) {
    const counts = added.get(line.taskId) ?? { kept: 0, dropped: 0 }
    counts.kept++
    added.set(line.taskId, counts)
  }
  for (const [taskId, lines] of batch.dropped) {
    const counts = added.get(taskId) ?? { kept: 0, dropped: 0 }
    counts.dropped += lines
    added.set(taskId, counts)
  }
  return added
}

/** SQLite gives numbers; PostgreSQL gives `bigint` columns as strings (exact), which are read here. */
const integer = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d{1,16}$/)
    .transform(Number),
])
const nullableInteger = integer.nullable()

export const TaskSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  kind: z.string(),
  payload: z.unknown(),
  priority: z.number(),
  capabilities: z.array(z.string()),
  status: TaskStatusSchema,
  agentId: z.string().nullable(),
  attempts: z.number().int().min(0),
  // Absent from tasks stored before requeues were counted apart.
  requeues: z.number().int().min(0).default(0),
  maxRetries: z.number().int().min(0),
  timeoutMs: z.number().nullable(),
  progress: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  result: z.unknown(),
  error: z.string().nullable(),
  // Absent from tasks without dependencies or a workflow, and from every task stored before them.
  dependsOn: z.array(z.string()).optional(),
  workflow: z.object({ id: z.string(), name: z.string(), key: z.string() }).optional(),
  cancelledByDependency: z.string().optional(),
}) satisfies z.ZodType<Task>

/** A task row's `data` column: the task as JSON text. */
export function parseTask(data: unknown): { ok: true; task: Task } | { ok: false; problem: string } {
  if (typeof data !== 'string') return { ok: false, problem: 'its data is not text' }
  let json: unknown
  try {
    json = JSON.parse(data)
  } catch (error) {
    return { ok: false, problem: `its data is not JSON (${(error as Error).message})` }
  }
  const parsed = TaskSchema.safeParse(json)
  if (!parsed.success) return { ok: false, problem: z.prettifyError(parsed.error).replace(/\s*\n\s*/g, '; ') }
  return { ok: true, task: parsed.data }
}

export const TaskRowSchema = z.object({ id: z.string(), data: z.string(), log_count: integer })
export const DetailRowSchema = z.object({ data: z.string(), logs_dropped: integer })
export const TransitionRowSchema = z.object({
  at: integer,
  status: TaskStatusSchema,
  agent_id: z.string().nullable(),
  attempt: integer,
  error: z.string().nullable(),
})
export const LogRowSchema = z.object({
  at: integer,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
})
export const PageRowSchema = z.object({ id: z.string(), data: z.string(), created_at: integer, ord: integer })
export const CountRowSchema = z.object({ total: integer })
export const IdRowSchema = z.object({ id: z.string() })
export const MetaRowSchema = z.object({ value: z.string() })

/** The stored count of tasks retention deleted; a missing or damaged one counts from zero. */
export function droppedOf(row: z.output<typeof MetaRowSchema> | undefined): number {
  const total = Number(row?.value ?? 0)
  return Number.isSafeInteger(total) && total >= 0 ? total : 0
}
export const VersionRowSchema = z.object({ version: nullableInteger })

/** Parses rows read back; a row of the wrong shape is an error naming the table. */
export function rowsOf<S extends z.ZodType>(schema: S, rows: readonly unknown[], table: string): z.output<S>[] {
  return rows.map((row) => {
    const parsed = schema.safeParse(row)
    if (!parsed.success) {
      throw new Error(`a row of ${table} is not what this program wrote: ${z.prettifyError(parsed.error)}`)
    }
    return parsed.data
  })
}

export function transitionOf(row: z.output<typeof TransitionRowSchema>): TaskTransition {
  return { at: row.at, status: row.status, agentId: row.agent_id, attempt: row.attempt, error: row.error }
}

/** Page cursors: `<createdAt>.<ord>` of the last task handed out (ord: the backend's insertion order). */
export function encodeCursor(createdAt: number, ord: number): string {
  return `${createdAt}.${ord}`
}

export function decodeCursor(cursor: string): { createdAt: number; ord: number } {
  const match = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor)
  if (!match) throw badCursor(cursor)
  return { createdAt: Number(match[1]), ord: Number(match[2]) }
}

/** Log cursors: the id of the last line handed out. */
export function decodeLogCursor(cursor: string): number {
  if (!/^\d{1,16}$/.test(cursor)) throw badCursor(cursor)
  return Number(cursor)
}

function badCursor(cursor: string): HistoryQueryError {
  return new HistoryQueryError(`cursor ${cursor.slice(0, 40)} is not one a page handed out`)
}

/** A page from `limit + 1` rows: the extra one says there is a next page. */
export function pageOf(rows: readonly z.output<typeof PageRowSchema>[], limit: number): TaskPage {
  const shown = rows.slice(0, limit)
  const tasks = shown.map((row) => {
    const parsed = parseTask(row.data)
    if (!parsed.ok) throw new Error(`task ${row.id} is stored, but ${parsed.problem}`)
    return parsed.task
  })
  const last = shown.at(-1)
  return { tasks, next: rows.length > limit && last ? encodeCursor(last.created_at, last.ord) : null }
}

export const StoredLogRowSchema = z.object({
  id: integer,
  task_id: z.string(),
  agent_id: z.string().nullable(),
  at: integer,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
})

/** A page of log lines from `limit + 1` rows, newest first. */
export function logPageOf(
  rows: readonly z.output<typeof StoredLogRowSchema>[],
  limit: number,
): { lines: StoredLogLine[]; next: string | null } {
  const lines = rows.slice(0, limit).map((row) => ({
    id: row.id,
    taskId: row.task_id,
    agentId: row.agent_id,
    at: row.at,
    level: row.level,
    message: row.message,
  }))
  return { lines, next: rows.length > limit && lines.length > 0 ? String(lines.at(-1)!.id) : null }
}

/** What full-text search looks in for a task: its id, name, kind, error, and its result and payload as JSON. */
export function taskSearchText(task: Task): string {
  const parts = [task.id, task.name, task.kind, task.error ?? '']
  for (const value of [task.result, task.payload]) if (value !== null && value !== undefined) parts.push(json(value))
  return parts.join(' ')
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return ''
  }
}
