/**
 * The filters, search and sort of the Tasks, Agents and Logs views as URL
 * fragment parameters (`#view=tasks&tasks.status=failed&tasks.q=build`), so
 * a link reproduces the view and a saved view (shared/saved-views.ts) is a
 * set of them. One table of fields per view: a new filter is one line here.
 * Only values that differ from the default are written; a value that does
 * not parse reads as the default. Pure functions, no DOM: unit-tested.
 */
import type { AgentStatus, TaskStatus } from '../../../shared/domain'
import type { LogLevel } from '../../../shared/events'
import type { SavedViewPage } from '../../../shared/saved-views'
import { SAVED_VIEW_LIMITS } from '../../../shared/saved-views'
import { AGENT_STATUS_LIST, LOG_LEVELS, TASK_STATUS_LIST } from '../statuses'

export type AgentSortKey = 'name' | 'status' | 'kind' | 'task' | 'done' | 'failed' | 'cpu' | 'memory' | 'heartbeat'
export const AGENT_SORT_KEYS: readonly AgentSortKey[] = [
  'name',
  'status',
  'kind',
  'task',
  'done',
  'failed',
  'cpu',
  'memory',
  'heartbeat',
]
export type TaskStatusFilter = 'all' | 'active' | TaskStatus

export interface TaskFilter {
  text: string
  status: TaskStatusFilter
  agentId: string
}
export interface AgentFilter {
  text: string
  status: 'all' | AgentStatus
  capability: string
}
export interface AgentSort {
  key: AgentSortKey
  descending: boolean
}
export interface LogFilter {
  text: string
  levels: LogLevel[]
  agentId: string
  taskId: string
  /** `datetime-local` values (local time), empty for no bound. */
  since: string
  until: string
}

/** Everything of one view that a link carries. */
export interface ViewState {
  tasks: { filter: TaskFilter }
  agents: { filter: AgentFilter; sort: AgentSort }
  logs: { filter: LogFilter }
}

export const defaultViewState = (): ViewState => ({
  tasks: { filter: { text: '', status: 'all', agentId: '' } },
  agents: { filter: { text: '', status: 'all', capability: '' }, sort: { key: 'name', descending: false } },
  logs: { filter: { text: '', levels: [...LOG_LEVELS], agentId: '', taskId: '', since: '', until: '' } },
})

/** One parameter: its key after the view's prefix, how to write a value, and how to read one back into the state. */
interface Field<S> {
  key: string
  write(state: S): string
  read(state: S, value: string): void
}

const text = <S>(key: string, get: (s: S) => string, set: (s: S, v: string) => void): Field<S> => ({
  key,
  write: get,
  read: (state, value) => set(state, value.slice(0, SAVED_VIEW_LIMITS.valueLength)),
})

const oneOf = <S, T extends string>(
  key: string,
  allowed: readonly T[],
  get: (s: S) => T,
  set: (s: S, v: T) => void,
): Field<S> => ({
  key,
  write: get,
  read: (state, value) => {
    if ((allowed as readonly string[]).includes(value)) set(state, value as T)
  },
})

const TASK_STATUS_FILTERS: readonly TaskStatusFilter[] = ['all', 'active', ...TASK_STATUS_LIST]
const AGENT_STATUS_FILTERS: readonly ('all' | AgentStatus)[] = ['all', ...AGENT_STATUS_LIST]

type Fields = { [P in SavedViewPage]: Field<ViewState[P]>[] }

export const VIEW_FIELDS: Fields = {
  tasks: [
    text(
      'q',
      (s) => s.filter.text,
      (s, v) => (s.filter.text = v),
    ),
    oneOf(
      'status',
      TASK_STATUS_FILTERS,
      (s) => s.filter.status,
      (s, v) => (s.filter.status = v),
    ),
    text(
      'agent',
      (s) => s.filter.agentId,
      (s, v) => (s.filter.agentId = v),
    ),
  ],
  agents: [
    text(
      'q',
      (s) => s.filter.text,
      (s, v) => (s.filter.text = v),
    ),
    oneOf(
      'status',
      AGENT_STATUS_FILTERS,
      (s) => s.filter.status,
      (s, v) => (s.filter.status = v),
    ),
    text(
      'cap',
      (s) => s.filter.capability,
      (s, v) => (s.filter.capability = v),
    ),
    {
      // `done` ascending, `-done` descending.
      key: 'sort',
      write: (s) => `${s.sort.descending ? '-' : ''}${s.sort.key}`,
      read: (s, value) => {
        const key = value.replace(/^-/, '')
        if (!(AGENT_SORT_KEYS as readonly string[]).includes(key)) return
        s.sort.key = key as AgentSortKey
        s.sort.descending = value.startsWith('-')
      },
    },
  ],
  logs: [
    text(
      'q',
      (s) => s.filter.text,
      (s, v) => (s.filter.text = v),
    ),
    {
      // The levels shown, comma-separated; `none` when every level is off.
      key: 'levels',
      write: (s) =>
        s.filter.levels.length === 0 ? 'none' : LOG_LEVELS.filter((l) => s.filter.levels.includes(l)).join(','),
      read: (s, value) => {
        const levels = value === 'none' ? [] : LOG_LEVELS.filter((l) => value.split(',').includes(l))
        if (value === 'none' || levels.length > 0) s.filter.levels = levels
      },
    },
    text(
      'agent',
      (s) => s.filter.agentId,
      (s, v) => (s.filter.agentId = v),
    ),
    text(
      'task',
      (s) => s.filter.taskId,
      (s, v) => (s.filter.taskId = v),
    ),
    text(
      'since',
      (s) => s.filter.since,
      (s, v) => (s.filter.since = v),
    ),
    text(
      'until',
      (s) => s.filter.until,
      (s, v) => (s.filter.until = v),
    ),
  ],
}

/** The view's non-default values as `prefix.key` parameters. */
export function viewParams<P extends SavedViewPage>(page: P, state: ViewState[P]): Record<string, string> {
  const defaults = defaultViewState()[page]
  const params: Record<string, string> = {}
  for (const field of VIEW_FIELDS[page] as Field<ViewState[P]>[]) {
    const value = field.write(state)
    if (value !== field.write(defaults)) params[`${page}.${field.key}`] = value
  }
  return params
}

/** The view's state from parameters: what they hold, the defaults for the rest. */
export function viewStateOf<P extends SavedViewPage>(
  page: P,
  params: URLSearchParams | Record<string, string>,
): ViewState[P] {
  const state = defaultViewState()[page]
  const get = (key: string) => (params instanceof URLSearchParams ? params.get(key) : (params[key] ?? null))
  for (const field of VIEW_FIELDS[page] as Field<ViewState[P]>[]) {
    const value = get(`${page}.${field.key}`)
    if (value !== null) field.read(state, value)
  }
  return state
}

/** Whether a fragment parameter is one of a view's (so the router may drop it when another view shows). */
export function isViewParam(key: string): boolean {
  return /^(tasks|agents|logs)\./.test(key)
}
