/**
 * Searches through the API against a filled history (search-fill.ts): each
 * case one request at a time, its words drawn from the fill's vocabulary so
 * no two requests in a row ask the same, for a count or a time budget,
 * whichever ends first. Latency is request to last byte, on loopback.
 */
import type { Distribution } from './api'
import { Histogram } from './histogram'
import { taskId, VOCABULARY } from './search-fill'

export interface SearchCase {
  name: string
  /** What it finds, in words (for the report). */
  finds: string
  path(i: number, tasks: number): string
}

const at = <T>(list: readonly T[], i: number): T => list[(i * 7919) % list.length]!

/** The cases, from a word in a hundred tasks to one in every task, plus the plain lists beside them. */
export const SEARCH_CASES: SearchCase[] = [
  {
    name: 'tasks q=<code>',
    finds: 'an error code: 1 task in 10,000',
    path: (i) => `/api/tasks?q=${at(VOCABULARY.codes, i)}`,
  },
  {
    name: 'tasks q=<code> status kind',
    finds: 'the same, failed, one kind: 1 in 80,000',
    path: (i) => `/api/tasks?q=${at(VOCABULARY.codes, i)}&status=failed&kind=${at(VOCABULARY.kinds, i)}`,
  },
  {
    name: 'tasks q=<host>',
    finds: 'a host: 1 task in 800',
    path: (i) => `/api/tasks?q=${at(VOCABULARY.hosts, i)}`,
  },
  {
    name: 'tasks q=<region>',
    finds: 'a region: 1 task in 20',
    path: (i) => `/api/tasks?q=${at(VOCABULARY.regions, i)}`,
  },
  {
    name: 'tasks q="slow response"',
    finds: 'a phrase: 1 task in 2',
    path: () => '/api/tasks?q=%22slow%20response%22',
  },
  {
    name: 'tasks kind (no q)',
    finds: 'no words, a kind: 1 task in 8',
    path: (i) => `/api/tasks?kind=${at(VOCABULARY.kinds, i)}`,
  },
  { name: 'logs q=<code>', finds: '1 line in 100,000', path: (i) => `/api/logs?q=${at(VOCABULARY.codes, i)}` },
  {
    name: 'logs q=<host> level=warn',
    finds: '1 line in 10,000',
    path: (i) => `/api/logs?q=${at(VOCABULARY.hosts, i)}&level=warn`,
  },
  { name: 'logs q=starting', finds: "every task's first line", path: () => '/api/logs?q=starting' },
  {
    name: 'logs task=<id>',
    finds: "one task's 10 lines",
    path: (i, tasks) => `/api/logs?task=${taskId((i * 7919) % tasks)}`,
  },
]

export interface CaseReport {
  name: string
  finds: string
  requests: number
  failed: number
  latency: Distribution
  /** `total` of the last answer (tasks), or lines in it (logs). */
  matched: number
}

export async function runCase(
  url: string,
  token: string,
  tasks: number,
  search: SearchCase,
  budget: { requests: number; ms: number },
): Promise<CaseReport> {
  const latency = new Histogram()
  let failed = 0
  let matched = 0
  const endAt = performance.now() + budget.ms
  let i = 0
  for (; i < budget.requests && performance.now() < endAt; i++) {
    const sent = performance.now()
    try {
      const response = await fetch(`${url}${search.path(i, tasks)}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(60_000),
      })
      const body = (await response.json()) as { total?: number; lines?: unknown[] }
      if (!response.ok) {
        failed++
        continue
      }
      latency.record(performance.now() - sent)
      matched = body.total ?? body.lines?.length ?? 0
    } catch {
      failed++
    }
  }
  return { name: search.name, finds: search.finds, requests: i, failed, latency: latency.summary(), matched }
}

/** One export through the API, read to the end: rows, bytes, time. */
export async function runExport(
  url: string,
  token: string,
  query: string,
): Promise<{ rows: number; mb: number; ms: number; rowsPerS: number }> {
  const started = performance.now()
  const response = await fetch(`${url}/api/tasks/export?${query}`, { headers: { authorization: `Bearer ${token}` } })
  if (!response.ok) throw new Error(`export answered ${response.status}`)
  let bytes = 0
  let rows = -1 // the header
  const reader = response.body!.getReader()
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    bytes += chunk.value.byteLength
    for (const byte of chunk.value) if (byte === 0x0a) rows++
  }
  const ms = performance.now() - started
  return { rows, mb: Math.round(bytes / 1e5) / 10, ms: Math.round(ms), rowsPerS: Math.round((rows / ms) * 1000) }
}
