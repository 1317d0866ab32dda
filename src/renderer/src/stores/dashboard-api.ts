/**
 * The REST reads besides the socket (task details, the history's searches
 * and exports; the snapshot poller of the REST fallback is in
 * src/shared/client), answering `Result`s. Operator commands go over the
 * socket, through the client's command queue.
 */
import type { TaskDetail } from '../../../shared/domain'
import type { ErrorBody, ErrorCode, Result } from '../../../shared/result'
import { ERROR_CODES } from '../../../shared/result'

export function getTaskDetail(baseUrl: string, token: string, taskId: string): Promise<Result<TaskDetail>> {
  return getJson(baseUrl, token, `/api/tasks/${encodeURIComponent(taskId)}`, parseTaskDetail)
}

/** Checks the parts the task view reads; older servers may omit transitions and logs. */
function parseTaskDetail(body: unknown): TaskDetail | null {
  if (!isRecord(body) || typeof body.id !== 'string' || typeof body.status !== 'string') return null
  const detail = body as Partial<TaskDetail>
  return {
    ...(detail as TaskDetail),
    transitions: Array.isArray(detail.transitions) ? detail.transitions : [],
    logs: Array.isArray(detail.logs) ? detail.logs : [],
    logsDropped: typeof detail.logsDropped === 'number' ? detail.logsDropped : 0,
  }
}

export async function getJson<T>(
  baseUrl: string,
  token: string,
  path: string,
  /** Checks (and may complete) the answer; null when it is not a T. */
  parse: (body: unknown) => T | null,
  timeoutMs = 10_000,
): Promise<Result<T>> {
  let response: Response
  try {
    response = await fetch(`${baseUrl}${path}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    const message = error instanceof Error && error.name === 'TimeoutError' ? 'no answer in time' : String(error)
    return { ok: false, error: { code: 'unavailable', message: `GET ${path} failed: ${message}` } }
  }
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) return { ok: false, error: errorOf(body, response.status) }
  const data = parse(body)
  if (data === null) return { ok: false, error: { code: 'internal', message: `GET ${path}: unexpected answer` } }
  return { ok: true, data }
}

/** A file the API sends (an export), whole, with the name the server gave it. */
export async function getFile(
  baseUrl: string,
  token: string,
  path: string,
  timeoutMs = 300_000,
): Promise<Result<{ blob: Blob; filename: string }>> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!response.ok) return { ok: false, error: errorOf(await response.json().catch(() => null), response.status) }
    const named = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')
    return { ok: true, data: { blob: await response.blob(), filename: named?.[1] ?? 'export' } }
  } catch (error) {
    const message = error instanceof Error && error.name === 'TimeoutError' ? 'no answer in time' : String(error)
    return { ok: false, error: { code: 'unavailable', message: `GET ${path.split('?')[0]} failed: ${message}` } }
  }
}

/** The server's `{ error: { code, message } }` (or a bare ErrorBody), else one made from the status. */
export function errorOf(body: unknown, status: number): ErrorBody {
  const candidate = isRecord(body) && isRecord(body.error) ? body.error : body
  if (isRecord(candidate) && typeof candidate.message === 'string') {
    const code = ERROR_CODES.find((c) => c === candidate.code) ?? codeForStatus(status)
    return { code, message: candidate.message }
  }
  return { code: codeForStatus(status), message: `HTTP ${status}` }
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized'
  if (status === 403) return 'forbidden'
  if (status === 404) return 'not_found'
  if (status === 413) return 'payload_too_large'
  if (status === 429) return 'rate_limited'
  if (status >= 500) return 'internal'
  return 'bad_request'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
