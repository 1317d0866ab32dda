/**
 * The REST fallback: while the socket cannot connect, fetch
 * `GET /api/snapshot` once a second so the page stays live (if coarser).
 * One request at a time; a slow answer delays the next instead of piling up.
 */
import type { Snapshot } from '../../../shared/protocol'

export interface SnapshotPollerOptions {
  url: string
  token: string
  intervalMs: number
  onSnapshot: (snapshot: Snapshot) => void
  onError: (message: string, status: number | null) => void
}

export interface SnapshotPoller {
  stop(): void
}

export function startSnapshotPoller(options: SnapshotPollerOptions): SnapshotPoller {
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let controller: AbortController | null = null

  async function poll(): Promise<void> {
    controller = new AbortController()
    const timeout = setTimeout(() => controller?.abort(), options.intervalMs * 5)
    try {
      const response = await fetch(`${options.url}/api/snapshot`, {
        headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/json' },
        cache: 'no-store',
        signal: controller.signal,
      })
      if (stopped) return
      if (!response.ok) {
        options.onError(`GET /api/snapshot answered ${response.status}`, response.status)
      } else {
        const body: unknown = await response.json()
        if (stopped) return
        if (isSnapshot(body)) options.onSnapshot(body)
        else options.onError('GET /api/snapshot answered something that is not a snapshot', response.status)
      }
    } catch (error) {
      if (!stopped) options.onError(`GET /api/snapshot failed: ${describe(error)}`, null)
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
function isSnapshot(value: unknown): value is Snapshot {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.seq === 'number' && Array.isArray(v.agents) && Array.isArray(v.tasks)
}

function describe(error: unknown): string {
  if (error instanceof DOMException && error.name === 'AbortError') return 'no answer in time'
  return error instanceof Error ? error.message : String(error)
}
