/**
 * `GET /api/metrics` on a real server, on both history backends: the samples
 * of before a restart are still served after it (the one-second tier and the
 * minute tier), and a bad query is a clear 400.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { MetricHistory } from '../../src/shared/metric-ranges'
import { createCore, loadConfig, type Core } from '../../src/main/core'
import { getJson, TEST_TOKENS, TOKEN_ENV } from '../helpers/core'
import { startPostgres, type Postgres } from '../helpers/postgres'

let postgres: Postgres | null = null
beforeAll(async () => {
  postgres = await startPostgres()
}, 30_000)
afterAll(() => postgres?.destroy())

const running: Core[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((core) => core.stop()))
})

async function start(dataDir: string, database: string | null): Promise<Core> {
  const argv = ['--port', '0', '--data-dir', dataDir, '--no-demo', '--local-agents', '0', '--log-level', 'warn']
  const core = createCore(loadConfig([...argv, ...(database ? ['--database', database] : [])], {}), {
    console: false,
    env: TOKEN_ENV,
  })
  await core.start()
  running.push(core)
  return core
}

async function history(core: Core, query: string): Promise<MetricHistory> {
  const { status, body } = await getJson(`${core.url}/api/metrics?${query}`, TEST_TOKENS.viewer)
  expect(status, JSON.stringify(body)).toBe(200)
  return body as MetricHistory
}

describe.each(['SQLite', 'PostgreSQL'] as const)('metric history on %s', (backend) => {
  it('serves the samples taken before a restart, at each range', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-metrics-'))
    const database = backend === 'PostgreSQL' ? (await postgres!.createDatabase()).url : null
    const first = await start(dataDir, database)
    let before: MetricHistory | null = null
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      before = await history(first, 'range=5m')
      if (before.samples.length >= 2) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(before!.samples.length).toBeGreaterThanOrEqual(2)
    expect(before).toMatchObject({ range: '5m', stepMs: 1000 })
    const stoppedAt = Date.now()
    await first.stop()
    running.splice(running.indexOf(first), 1)

    const second = await start(dataDir, database)
    const after = await history(second, 'range=1h')
    expect(after.stepMs).toBe(5000)
    expect(after.samples.filter((s) => s.at < stoppedAt).length).toBeGreaterThanOrEqual(1)
    const day = await history(second, 'range=24h')
    expect(day.stepMs).toBe(60_000)
    expect(day.samples.some((s) => s.at <= stoppedAt)).toBe(true)
    const week = await history(second, 'range=7d')
    expect(week.samples.length).toBeGreaterThanOrEqual(1)
    const span = await history(second, `from=${before!.samples[0]!.at}&to=${stoppedAt}`)
    expect(span.samples.map((s) => s.at)).toEqual(expect.arrayContaining(before!.samples.map((s) => s.at)))
  })
})

describe('GET /api/metrics', () => {
  it('answers a bad query with a 400 naming what is wrong, and wants a dashboard token', async () => {
    const core = await start(mkdtempSync(join(tmpdir(), 'sm-metrics-')), null)
    const now = Date.now()
    const cases: [string, RegExp][] = [
      ['', /give range/],
      ['range=2d', /range/],
      ['range=5m&from=1&to=2', /not both/],
      ['from=1', /give range/],
      [`from=${now}&to=${now - 1}`, /to: must be after from/],
      [`from=0&to=${now}`, /longer than the week/],
      ['from=abc&to=1', /from/],
      ['range=5m&extra=1', /extra/],
    ]
    for (const [query, message] of cases) {
      const { status, body } = await getJson(`${core.url}/api/metrics?${query}`, TEST_TOKENS.viewer)
      expect(status, query).toBe(400)
      expect((body as { error: { message: string } }).error.message, query).toMatch(message)
    }
    expect((await getJson(`${core.url}/api/metrics?range=5m`)).status).toBe(401)
    expect((await getJson(`${core.url}/api/metrics?range=5m`, TEST_TOKENS.agent)).status).toBe(403)
  })
})
