/**
 * A big history, written straight into the database through the storage
 * backend (`HistoryBackend.write`, the same SQL and indexes the server
 * uses), not through the API: N finished tasks with `linesPerTask` log lines
 * each, made from a seeded generator so every run holds the same words.
 *
 * The words are spread so the searches have known sizes: every task logs
 * `starting`; a region (1 of 20) is in every task; a host (1 of 500) is in
 * the warning line half the tasks have; a failed task (10 %) logs an error
 * code (1 of 1,000), so a code matches ~0.01 % of the tasks.
 */
import type { Task } from '../src/shared/domain'
import type { LogLevel } from '../src/shared/events'
import type { HistoryBackend } from '../src/main/core/storage/backend'
import { emptyBatch, type Batch } from '../src/main/core/storage/rows'

export const VOCABULARY = {
  kinds: ['etl', 'report', 'backup', 'render', 'crawl', 'compile', 'train', 'index'],
  regions: Array.from({ length: 20 }, (_, i) => `region${String.fromCharCode(97 + i)}`),
  hosts: Array.from({ length: 500 }, (_, i) => `db${String(i).padStart(3, '0')}`),
  codes: Array.from({ length: 1000 }, (_, i) => `E${1000 + i}`),
  agents: Array.from({ length: 50 }, (_, i) => `agent-${String(i).padStart(2, '0')}`),
}

export interface FillSpec {
  tasks: number
  linesPerTask: number
  /** Tasks (with their lines) per commit. */
  batchTasks: number
  /** Commits in flight at once (PostgreSQL: one connection each; SQLite writes one at a time anyway). */
  concurrency: number
  /** The newest task is created at this time; the others one per `spacingMs` before. */
  now: number
  spacingMs: number
}

/** mulberry32: the same history every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!

export const taskId = (n: number) => `bt-${String(n).padStart(7, '0')}`

function addTask(batch: Batch, n: number, spec: FillSpec, random: () => number): void {
  const { kinds, regions, hosts, codes, agents } = VOCABULARY
  const kind = kinds[n % kinds.length]!
  const region = pick(random, regions)
  const agentId = pick(random, agents)
  const failed = random() < 0.1
  const code = pick(random, codes)
  const createdAt = spec.now - (spec.tasks - n) * spec.spacingMs
  const startedAt = createdAt + 50
  const finishedAt = startedAt + Math.round(200 + random() * 5000)
  const task: Task = {
    id: taskId(n),
    name: `${kind} ${region} batch ${n % 997}`,
    kind,
    payload: { region, size: Math.round(random() * 10_000), shard: n % 64 },
    priority: 0,
    capabilities: [kind],
    status: failed ? 'failed' : 'succeeded',
    agentId,
    attempts: 1,
    requeues: 0,
    maxRetries: 0,
    timeoutMs: null,
    progress: failed ? 0.6 : 1,
    createdAt,
    updatedAt: finishedAt,
    startedAt,
    finishedAt,
    result: failed ? null : { rows: Math.round(random() * 100_000) },
    error: failed ? `${code}: upstream ${pick(random, hosts)} refused the write` : null,
  }
  batch.tasks.push(task)
  const lines: [LogLevel, string][] = [
    ['info', `starting ${kind} for ${region} on ${agentId}`],
    ['debug', `fetched ${Math.round(random() * 5000)} records from ${region} shard ${n % 64}`],
  ]
  if (random() < 0.5)
    lines.push(['warn', `slow response from ${pick(random, hosts)} after ${Math.round(random() * 900)} ms`])
  while (lines.length < spec.linesPerTask - 1) {
    lines.push([
      'info',
      `processing chunk ${lines.length} of ${spec.linesPerTask} checkpoint c${Math.floor(random() * 1e6)}`,
    ])
  }
  lines.push(
    failed ? ['error', `error ${code}: write refused, giving up`] : ['info', `done in ${finishedAt - startedAt} ms`],
  )
  lines.forEach(([level, message], i) => {
    batch.logs.push({ taskId: task.id, agentId, at: startedAt + i * 10, level, message })
  })
}

/** Writes the history; resolves with how long it took. `progress` is told after each commit. */
export async function fillHistory(
  backend: HistoryBackend,
  spec: FillSpec,
  progress: (done: number) => void = () => {},
): Promise<{ ms: number }> {
  const random = seeded(42)
  const started = performance.now()
  let next = 0
  let done = 0
  // Batches are made in order from one generator; commits may overlap.
  const lane = async () => {
    while (next < spec.tasks) {
      const first = next
      const end = Math.min(spec.tasks, first + spec.batchTasks)
      next = end
      const batch = emptyBatch()
      for (let n = first; n < end; n++) addTask(batch, n, spec, random)
      await backend.write(batch)
      done += end - first
      progress(done)
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, lane))
  return { ms: Math.round(performance.now() - started) }
}
