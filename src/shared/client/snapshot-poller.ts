/**
 * The REST fallback: while the socket cannot connect, fetch
 * `GET /api/snapshot` every interval so the view stays live (if coarser).
 * One request at a time; a slow answer delays the next instead of piling up.
 * `fetch` comes in from the caller (the browser's, Node's, a test's).
 */
import type { Snapshot } from '../protocol'

/** The part of `fetch` the poller uses. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; cache?: 'no-store'; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>

export interface SnapshotPollerOptions {
  /** Base URL of the server, without a trailing slash. */
  url: string
  token: string
  fetch: FetchLike
  intervalMs: number
  /** A request that takes longer is abandoned (default 5 × the interval). */
  timeoutMs?: number
  onSnapshot: (snapshot: Snapshot) => void
  /** `status` is null when no HTTP answer came at all. */
  onError: (message: string, status: number | null) => void
}

export interface SnapshotPoller {
  stop(): void
}

export function startSnapshotPoller(options: SnapshotPollerOptions): SnapshotPoller {
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let controller: AbortController | null = null
  const timeoutMs = options.timeoutMs ?? options.intervalMs * 5

  async function poll(): Promise<void> {
    controller = new AbortController()
    const current = controller
    const timeout = setTimeout(() => current.abort(), timeoutMs)
    try {
      const response = await options.fetch(`${options.url}/api/snapshot`, {
        headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/json' },
        cache: 'no-store',
        signal: current.signal,
      })
      if (stopped) return
      if (!response.ok) {
        options.onError(`GET /api/snapshot answered ${response.status}`, response.status)
        return
      }
      const body: unknown = await response.json()
      if (stopped) return
      if (isSnapshot(body)) options.onSnapshot(body)
      else options.onError('GET /api/snapshot answered something that is not a snapshot', response.status)
    } catch (error) {
      if (!stopped) options.onError(`GET /api/snapshot failed: ${describe(error, current)}`, null)
    } finally {
      clearTimeout(timeout)
      controller = null
      if (!stopped) timer = setTimeout(() => void poll(), options.intervalMs)
    }
  }

  void poll()

  return {
    stop() {
      stopped = true
      clearTimeout(timer)
      controller?.abort()
    },
  }
}

/** Enough of a check that a proxy's HTML error page is not taken for the swarm. */
export function isSnapshot(value: unknown): value is Snapshot {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.seq === 'number' && Array.isArray(v.agents) && Array.isArray(v.tasks)
}

function describe(error: unknown, controller: AbortController): string {
  if (controller.signal.aborted) return 'no answer in time'
  return error instanceof Error ? error.message : String(error)
}
