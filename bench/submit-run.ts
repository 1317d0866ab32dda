/**
 * Submissions as fast as they are accepted: `concurrency` lanes, each
 * posting one task and waiting for its answer before the next, for a fixed
 * time. Every `201` was durable when it was sent (the server answers only
 * after the task's commit), so the rate is tasks a second accepted with
 * durability. The tasks ask for a capability no agent has: they stay queued,
 * and only the submit path is measured.
 */
import type { SubmitRunReport, SubmitRunRequest } from './api'
import { Histogram } from './histogram'

export async function runSubmissions(request: SubmitRunRequest): Promise<SubmitRunReport> {
  const latency = new Histogram()
  const refused: Record<string, number> = {}
  let accepted = 0
  let failed = 0
  const started = performance.now()
  const endAt = started + request.durationMs
  const lane = async (id: number) => {
    for (let i = 0; performance.now() < endAt; i++) {
      const sent = performance.now()
      try {
        const response = await fetch(`${request.url}/api/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${request.token}` },
          body: JSON.stringify({ name: `submit ${id}.${i}`, kind: 'bench', capabilities: ['nowhere'], payload: { i } }),
          signal: AbortSignal.timeout(30_000),
        })
        await response.arrayBuffer()
        if (response.status === 201) {
          accepted++
          latency.record(performance.now() - sent)
        } else refused[response.status] = (refused[response.status] ?? 0) + 1
      } catch {
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: request.concurrency }, (_, id) => lane(id)))
  const ms = performance.now() - started
  return {
    accepted,
    refused,
    failed,
    ms: Math.round(ms),
    perSecond: Math.round((accepted / ms) * 1000),
    latency: latency.summary(),
  }
}
