/**
 * Schedules through a real server (SQLite history in its data dir): created,
 * previewed, fired by the clock, run now under the overlap rule, paused,
 * resumed and deleted over HTTP and as Socket.IO commands, operators only,
 * audited; bad bodies refused with nothing stored; back after a restart with
 * one catch-up run for the runs missed while it was down. The schedules'
 * clock is the wall clock plus an offset the test moves (`scheduleClock`);
 * the server's one-second tick is real.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditPage } from '../../src/shared/audit'
import type { Task } from '../../src/shared/domain'
import type { Schedule, ScheduleList } from '../../src/shared/schedules'
import { TEST_TOKENS, connectDashboard, getJson, postJson, startCore } from '../helpers/core'

const HOUR = 3_600_000
const { operator, viewer } = TEST_TOKENS

const cores: { stop(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

/** A server with no agents (a run's task stays queued until cancelled), its schedules' clock `offset.ms` ahead. */
async function start(offset: { ms: number }, dataDir?: string) {
  const core = await startCore(['--no-demo', ...(dataDir ? ['--data-dir', dataDir] : [])], {
    scheduleClock: () => Date.now() + offset.ms,
  })
  cores.push(core)
  return core
}

const BUILD = {
  name: 'nightly build',
  cron: '0 2 * * *',
  timezone: 'Europe/Paris',
  task: { name: 'build', kind: 'test' },
}

async function schedules(url: string, token = viewer): Promise<Schedule[]> {
  const { status, body } = await getJson(`${url}/api/schedules`, token)
  expect(status).toBe(200)
  return (body as ScheduleList).schedules
}

async function post(url: string, path: string, body: unknown = {}, token = operator) {
  return postJson(`${url}${path}`, body, token)
}

/** Polls the schedule until `check` holds (the tick is once a second). */
async function waitFor(url: string, id: string, check: (s: Schedule) => boolean, what: string): Promise<Schedule> {
  let last: Schedule | undefined
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    last = (await schedules(url)).find((s) => s.id === id)
    if (last && check(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`)
}

describe('schedules on a real server', () => {
  it('creates, previews, fires, runs now under "skip", pauses, resumes and deletes; viewers only read', async () => {
    const offset = { ms: 0 }
    const core = await start(offset)
    const { url } = core

    const preview = await post(
      url,
      '/api/schedules/preview',
      { cron: '*/15 9-17 * * 1-5', timezone: 'Asia/Tokyo' },
      viewer,
    )
    expect(preview.status).toBe(200)
    expect((preview.body as { nextRuns: number[] }).nextRuns).toHaveLength(5)
    const badPreview = await post(url, '/api/schedules/preview', { cron: '* * * * * *' }, viewer)
    expect(badPreview).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('cron') } } })

    // Refused, each naming its field, and nothing stored.
    const refused = [
      [{ ...BUILD, cron: 'every night' }, 'cron'],
      [{ ...BUILD, timezone: 'Paris' }, 'timezone'],
      [{ ...BUILD, cron: '*/5 * * * * *' }, 'more than once a minute'],
      [{ ...BUILD, task: { kind: 'test' } }, 'task.name'],
      [{ ...BUILD, task: undefined }, 'give a task or a workflow'],
      [{ ...BUILD, workflow: { name: 'w', tasks: [] } }, 'task'],
      [{ ...BUILD, name: 'x'.repeat(201) }, 'name'],
      [{ ...BUILD, overlap: 'never' }, 'overlap'],
      [{ ...BUILD, extra: 1 }, 'extra'],
    ] as const
    for (const [body, field] of refused) {
      const answer = await post(url, '/api/schedules', body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect((answer.body as { error: { message: string } }).error.message).toContain(field)
    }
    const huge = { ...BUILD, task: { ...BUILD.task, payload: { blob: 'x'.repeat(1024 * 1024) } } }
    expect(await post(url, '/api/schedules', huge)).toMatchObject({ status: 413 })
    expect(await post(url, '/api/schedules', BUILD, viewer)).toMatchObject({ status: 403 })
    expect(await schedules(url)).toEqual([])

    const created = await post(url, '/api/schedules', BUILD)
    expect(created.status).toBe(201)
    const schedule = created.body as Schedule
    expect(schedule).toMatchObject({ name: 'nightly build', overlap: 'skip', paused: false, lastRun: null })
    expect(schedule.nextRuns).toHaveLength(5)
    expect(new Date(schedule.nextRunAt!).toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris' })).toBe('02:00:00')

    // Its time comes: the next tick runs it.
    offset.ms = schedule.nextRunAt! - Date.now() + 1000
    const fired = await waitFor(url, schedule.id, (s) => s.lastRun !== null, 'the cron run')
    expect(fired.lastRun).toMatchObject({ trigger: 'cron', outcome: 'started', state: 'queued' })
    expect(fired.nextRunAt).toBe(schedule.nextRuns[1])
    const task = (await getJson(`${url}/api/tasks/${fired.lastRun!.taskId}`, viewer)).body as Task
    expect(task).toMatchObject({ name: 'build', status: 'queued' })

    // Run now while that task is queued: skipped ("skip"); once it is cancelled, started.
    const skipped = await post(url, `/api/schedules/${schedule.id}/run`)
    expect(skipped).toMatchObject({ status: 200, body: { lastRun: { trigger: 'manual', outcome: 'skipped' } } })
    expect(await post(url, `/api/schedules/${schedule.id}/run`, {}, viewer)).toMatchObject({ status: 403 })
    await post(url, `/api/tasks/${task.id}/cancel`)
    const ran = await post(url, `/api/schedules/${schedule.id}/run`)
    expect(ran).toMatchObject({ status: 200, body: { lastRun: { trigger: 'manual', outcome: 'started' } } })

    const paused = await post(url, `/api/schedules/${schedule.id}/pause`)
    expect(paused).toMatchObject({ status: 200, body: { paused: true, nextRunAt: null, nextRuns: [] } })
    const resumed = await post(url, `/api/schedules/${schedule.id}/resume`)
    expect(resumed).toMatchObject({ status: 200, body: { paused: false } })
    expect((resumed.body as Schedule).nextRuns).toHaveLength(5)

    expect(await getJson(`${url}/api/schedules/${schedule.id}`, viewer)).toMatchObject({ status: 200 })
    const remove = (token: string) =>
      fetch(`${url}/api/schedules/${schedule.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    expect((await remove(viewer)).status).toBe(403)
    expect((await remove(operator)).status).toBe(200)
    expect(await getJson(`${url}/api/schedules/${schedule.id}`, viewer)).toMatchObject({ status: 404 })
    expect(await post(url, `/api/schedules/${schedule.id}/run`)).toMatchObject({ status: 404 })

    const audit = (await getJson(`${url}/api/audit?limit=50`, operator)).body as AuditPage
    const actions = audit.entries.map((entry) => `${entry.action} ${entry.outcome}`)
    expect(actions).toEqual(
      expect.arrayContaining([
        'schedule:create ok',
        'schedule:create refused',
        'schedule:run ok',
        'schedule:delete ok',
      ]),
    )
  })

  it('works as Socket.IO commands, refused to a viewer', async () => {
    const core = await start({ ms: 0 })
    const { socket } = await connectDashboard(core.url, operator)
    const { socket: watcher } = await connectDashboard(core.url, viewer)
    try {
      const created = await socket.emitWithAck('schedule:create', { ...BUILD, overlap: 'allow' })
      expect(created).toMatchObject({ ok: true, data: { overlap: 'allow' } })
      const id = created.ok ? created.data.id : ''
      expect(await watcher.emitWithAck('schedule:pause', { scheduleId: id })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      })
      expect(await socket.emitWithAck('schedule:pause', { scheduleId: id })).toMatchObject({
        ok: true,
        data: { paused: true },
      })
      expect(await socket.emitWithAck('schedule:run', { scheduleId: id })).toMatchObject({
        ok: true,
        data: { lastRun: { outcome: 'started' } },
      })
      expect(await socket.emitWithAck('schedule:delete', { scheduleId: id })).toMatchObject({ ok: true })
      expect(await socket.emitWithAck('schedule:delete', { scheduleId: id })).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      })
    } finally {
      socket.close()
      watcher.close()
    }
  })

  it('is back after a restart, with one catch-up run for the runs missed while down and none when paused', async () => {
    const offset = { ms: 0 }
    const first = await start(offset)
    const hourly = (await post(first.url, '/api/schedules', { ...BUILD, name: 'hourly', cron: '0 * * * *' }))
      .body as Schedule
    const paused = (await post(first.url, '/api/schedules', { ...BUILD, name: 'paused' })).body as Schedule
    await post(first.url, `/api/schedules/${paused.id}/pause`)
    await first.stop()
    cores.splice(0)

    // Down for five hours of the schedules' clock.
    offset.ms = 5 * HOUR
    const second = await start(offset, first.dataDir)
    const caught = await waitFor(second.url, hourly.id, (s) => s.lastRun !== null, 'the catch-up run')
    expect(caught.lastRun).toMatchObject({ trigger: 'catch-up', outcome: 'started' })
    expect(caught.nextRunAt).toBeGreaterThan(Date.now() + offset.ms)
    expect(caught.nextRunAt! - (Date.now() + offset.ms)).toBeLessThanOrEqual(HOUR)
    // Two ticks later: still that one run.
    await new Promise((resolve) => setTimeout(resolve, 2200))
    const tasks = second.coordinator.listTasks().tasks
    expect(tasks.map((task) => task.id)).toEqual([caught.lastRun!.taskId])
    const list = await schedules(second.url)
    expect(list.map((s) => [s.name, s.paused])).toEqual([
      ['hourly', false],
      ['paused', true],
    ])
    expect(list[1]!.lastRun).toBeNull()
  })
})
