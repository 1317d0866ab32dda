/**
 * The REST calls of the operator's tools: the audit trail, saved views,
 * the kinds' queues and metric history (server:
 * main/core/server/operator-routes.ts), and the cluster's nodes (http.ts),
 * answering `Result`s. Answers are checked for the parts the page reads.
 */
import type { AuditEntry, AuditPage } from '../../../shared/audit'
import type { ClusterInfo, NodeHealth } from '../../../shared/cluster'
import type { MetricHistory, MetricRange } from '../../../shared/metric-ranges'
import type { Result } from '../../../shared/result'
import type { SavedView, SavedViewInput } from '../../../shared/saved-views'
import type { SchedulePreview, SchedulePreviewRequest } from '../../../shared/schedules'
import type { TaskBulkAnswer, TaskBulkRequest } from '../../../shared/task-bulk'
import { parseClusterInfo, parseNodeHealth } from './cluster.model'
import { errorOf, getJson } from './dashboard-api'

export interface Rest {
  url: string
  token: string
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

export function getAuditPage(rest: Rest, query: URLSearchParams): Promise<Result<AuditPage>> {
  return getJson(rest.url, rest.token, `/api/audit?${query.toString()}`, (body) =>
    isRecord(body) && Array.isArray(body.entries) && typeof body.total === 'number'
      ? {
          entries: body.entries as AuditEntry[],
          total: body.total,
          next: typeof body.next === 'string' ? body.next : null,
        }
      : null,
  )
}

export function getSavedViews(rest: Rest): Promise<Result<SavedView[]>> {
  return getJson(rest.url, rest.token, '/api/views', (body) =>
    isRecord(body) && Array.isArray(body.views) ? (body.views as SavedView[]) : null,
  )
}

export function getMetricHistory(
  rest: Rest,
  span: { range: MetricRange } | { from: number; to: number },
): Promise<Result<MetricHistory>> {
  const query = 'range' in span ? `range=${span.range}` : `from=${Math.floor(span.from)}&to=${Math.ceil(span.to)}`
  return getJson(rest.url, rest.token, `/api/metrics?${query}`, (body) =>
    isRecord(body) && Array.isArray(body.samples) && typeof body.stepMs === 'number'
      ? (body as unknown as MetricHistory)
      : null,
  )
}

/** Who the nodes are, who leads, the epoch (`GET /api/cluster`; a single server answers as a cluster of one). */
export function getClusterInfo(rest: Rest): Promise<Result<ClusterInfo>> {
  return getJson(rest.url, rest.token, '/api/cluster', parseClusterInfo, 5_000)
}

/** The node that answers at this URL and its role (`/healthz`'s `node`). */
export function getNodeHealth(rest: Rest): Promise<Result<NodeHealth>> {
  return getJson(rest.url, rest.token, '/healthz', parseNodeHealth, 5_000)
}

export function saveView(rest: Rest, input: SavedViewInput): Promise<Result<SavedView>> {
  return send(rest, 'POST', '/api/views', input)
}

export function deleteView(rest: Rest, id: string): Promise<Result<SavedView>> {
  return send(rest, 'DELETE', `/api/views/${encodeURIComponent(id)}`)
}

/** A bulk action's answer comes once every task is dealt with and stored: 10,000 take seconds, so it may take long. */
export function postTaskBulk(rest: Rest, request: TaskBulkRequest): Promise<Result<TaskBulkAnswer>> {
  return send(rest, 'POST', '/api/tasks/bulk', request, 120_000)
}

/** The next run times of a cron, before a schedule is saved (`POST /api/schedules/preview`). */
export function previewSchedule(rest: Rest, request: SchedulePreviewRequest): Promise<Result<SchedulePreview>> {
  return send(rest, 'POST', '/api/schedules/preview', request)
}

async function send<T>(
  rest: Rest,
  method: 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<Result<T>> {
  let response: Response
  try {
    response = await fetch(`${rest.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${rest.token}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    return { ok: false, error: { code: 'unavailable', message: `${method} ${path} failed: ${String(error)}` } }
  }
  const data: unknown = await response.json().catch(() => null)
  if (!response.ok) return { ok: false, error: errorOf(data, response.status) }
  return { ok: true, data: data as T }
}
