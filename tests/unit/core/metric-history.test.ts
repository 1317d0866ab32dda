/**
 * The metric history's tiers over a real SQLite store and a mocked clock:
 * one-second samples for an hour, minutes for a week, what is not written
 * yet served too, pruning past each tier, and a database that fails for a
 * while losing nothing.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { MetricsSample } from '../../../src/shared/domain'
import { MetricsHistory } from '../../../src/main/core/metrics/metric-history'
import type { TaskHistory } from '../../../src/main/core/storage/history'
import { createStorage } from '../../../src/main/core/storage/open-history'
import type { OperatorStore } from '../../../src/main/core/storage/operator-store'

const MINUTE = 60_000
const quiet = { info: () => {}, warn: () => {} }

function sample(at: number, queued = 0): MetricsSample {
  return {
    at,
    agents: { idle: 1, busy: 0, paused: 0, error: 0, offline: 0 },
    queued,
    running: 0,
    succeeded: at / 1000,
    failed: 0,
    throughput: 1,
    durationP50Ms: null,
    durationP95Ms: null,
  }
}

const histories: TaskHistory[] = []
afterEach(async () => {
  await Promise.all(histories.splice(0).map((h) => h.close()))
})

async function store(): Promise<OperatorStore> {
  const file = join(mkdtempSync(join(tmpdir(), 'sm-metrics-')), 'swarm.db')
  const made = createStorage({ kind: 'sqlite', file }, { retention: { maxTasks: 10, maxAgeMs: MINUTE } })
  histories.push(made.history)
  await made.history.open()
  return made.operator
}

describe('MetricsHistory', () => {
  it('serves seconds for the last hour and minutes beyond, stored or not yet', async () => {
    const operator = await store()
    let now = 100 * MINUTE
    const history = new MetricsHistory(operator, { logger: quiet, now: () => now, flushMs: 3_600_000 })
    history.start()
    // Three minutes of one-second samples; the queue peaks at 50 in the second minute.
    for (let t = now; t < now + 3 * MINUTE; t += 1000) history.add(sample(t, t === now + MINUTE + 5000 ? 50 : 1))
    now += 3 * MINUTE
    await history.flush()
    // And ten more seconds not yet written.
    for (let t = now; t < now + 10_000; t += 1000) history.add(sample(t))
    now += 10_000

    const fiveMinutes = await history.query({ range: '5m' })
    expect(fiveMinutes.stepMs).toBe(1000)
    expect(fiveMinutes.samples).toHaveLength(190)
    expect(fiveMinutes.samples.at(-1)!.at).toBe(now - 1000)

    const day = await history.query({ range: '24h' })
    expect(day.stepMs).toBe(MINUTE)
    // Two whole minutes written, the third completed by the next sample, and the minute under way.
    expect(day.samples.map((s) => (s.at - 100 * MINUTE) / MINUTE)).toEqual([0, 1, 2, 3])
    expect(day.samples[1]!.queued).toBe(50)

    const hour = await history.query({ range: '1h' })
    expect(hour.stepMs).toBe(5000)
    expect(hour.samples.length).toBe(38)
    const span = await history.query({ from: 100 * MINUTE + 30_000, to: 100 * MINUTE + 40_000 })
    expect(span.samples.map((s) => s.at - 100 * MINUTE)).toEqual([
      30_000, 31_000, 32_000, 33_000, 34_000, 35_000, 36_000, 37_000, 38_000, 39_000,
    ])
    await history.close()
  })

  it('prunes seconds after an hour and minutes after a week', async () => {
    const operator = await store()
    let now = 10 * 24 * 60 * MINUTE
    const history = new MetricsHistory(operator, { logger: quiet, now: () => now, flushMs: 3_600_000 })
    history.start()
    await operator.appendSamples(1000, [sample(now - 2 * 60 * MINUTE), sample(now - 1000)])
    await operator.appendSamples(MINUTE, [sample(now - 8 * 24 * 60 * MINUTE), sample(now - 2 * 60 * MINUTE)])
    now += 1
    expect(await history.prune()).toBe(2)
    expect((await history.query({ range: '7d' })).samples).toHaveLength(1)
    expect((await history.query({ range: '5m' })).samples).toHaveLength(1)
    await history.close()
  })

  it('keeps samples while the store refuses them, and writes them once it takes them again', async () => {
    const operator = await store()
    let refusing = true
    const flaky: OperatorStore = {
      ...operator,
      appendSamples: (step, samples) =>
        refusing ? Promise.reject(new Error('disk on fire')) : operator.appendSamples(step, samples),
      samples: (step, from, to) => operator.samples(step, from, to),
    }
    const warned: string[] = []
    const now = 50 * MINUTE
    const history = new MetricsHistory(flaky, {
      logger: { info: () => {}, warn: (_o: object, m: string) => void warned.push(m) },
      now: () => now + 5000,
      flushMs: 3_600_000,
    })
    history.start()
    for (let t = now; t < now + 5000; t += 1000) history.add(sample(t))
    await expect(history.flush()).rejects.toThrow(/disk on fire/)
    expect(warned).toHaveLength(1)
    refusing = false
    await history.flush()
    expect(await operator.samples(1000, 0, now + 10_000)).toHaveLength(5)
    await history.close()
  })
})
