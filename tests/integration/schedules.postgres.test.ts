/**
 * Schedules on a PostgreSQL history: a schedule is refused (503, nothing
 * stored) while the database is gone, and after a restart on the same
 * database the schedules are back, with one catch-up run for the runs missed
 * while the server was down and none for a paused one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Schedule, ScheduleList } from '../../src/shared/schedules'
import { TEST_TOKENS, getJson, postJson, startCore } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'

const HOUR = 3_600_000
const pg = postgresForSuite()

const cores: { stop(): Promise<void> }[] = []
afterEach(async () => {
  pg().resume()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

async function serve(database: string, offset: { ms: number }) {
  const core = await startCore(['--no-demo', '--database', database], { scheduleClock: () => Date.now() + offset.ms })
  cores.push(core)
  return core
}

const HOURLY = { name: 'hourly', cron: '0 * * * *', task: { name: 'report', kind: 'test' } }

async function list(url: string): Promise<Schedule[]> {
  return ((await getJson(`${url}/api/schedules`, TEST_TOKENS.viewer)).body as ScheduleList).schedules
}

describe('schedules on PostgreSQL', () => {
  it('refuses a schedule while the database is gone, storing nothing', async () => {
    const { url: database } = await pg().createDatabase()
    const core = await serve(database, { ms: 0 })
    pg().halt()
    const refused = await postJson(`${core.url}/api/schedules`, HOURLY, TEST_TOKENS.operator)
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } })
    expect(await list(core.url)).toEqual([])
    pg().resume()
  })

  it('is back after a restart, with one catch-up run for the runs missed while down and none when paused', async () => {
    const { url: database } = await pg().createDatabase()
    const offset = { ms: 0 }
    const first = await serve(database, offset)
    const hourly = (await postJson(`${first.url}/api/schedules`, HOURLY, TEST_TOKENS.operator)).body as Schedule
    const paused = (await postJson(`${first.url}/api/schedules`, { ...HOURLY, name: 'paused' }, TEST_TOKENS.operator))
      .body as Schedule
    await postJson(`${first.url}/api/schedules/${paused.id}/pause`, {}, TEST_TOKENS.operator)
    await first.stop()
    cores.splice(0)

    offset.ms = 3 * HOUR
    const second = await serve(database, offset)
    let back: Schedule[] = []
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      back = await list(second.url)
      if (back.find((s) => s.id === hourly.id)?.lastRun) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(back.map((s) => [s.name, s.paused])).toEqual([
      ['hourly', false],
      ['paused', true],
    ])
    expect(back[0]!.lastRun).toMatchObject({ trigger: 'catch-up', outcome: 'started' })
    expect(back[1]!.lastRun).toBeNull()
    await new Promise((resolve) => setTimeout(resolve, 1200))
    expect(second.coordinator.listTasks().tasks.map((task) => task.id)).toEqual([back[0]!.lastRun!.taskId])
  })
})
