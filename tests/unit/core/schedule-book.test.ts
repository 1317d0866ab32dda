/**
 * The schedule book against a fake clock: firing (once per due time, once for
 * a late tick), the three overlap rules, pause and resume, "run now", the
 * bound, and a restart (a second book on the same SQLite file) with at most
 * one catch-up run. Real parts otherwise: a coordinator (no agents, so a
 * run's task stays queued until the test cancels it) and the operator store
 * of a real history file. The submit path's history is one that is always
 * up and commits at once.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { ScheduleBook } from '../../../src/main/core/schedules/schedule-book'
import { ScheduleCreateSchema } from '../../../src/main/core/schedules/schedule-input'
import { coordinatorRunner } from '../../../src/main/core/server/schedule-runner'
import type { TaskHistory } from '../../../src/main/core/storage/history'
import { createStorage } from '../../../src/main/core/storage/open-history'
import type { OperatorStore } from '../../../src/main/core/storage/operator-store'
import { SCHEDULE_LIMITS, type Schedule } from '../../../src/shared/schedules'

const HOUR = 3_600_000
const T0 = Date.parse('2026-03-02T10:30:00Z')
const silent = { warn: () => {}, info: () => {} }

const open: TaskHistory[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((history) => history.close()))
})

async function storeAt(file: string): Promise<OperatorStore> {
  const made = createStorage({ kind: 'sqlite', file }, { retention: { maxTasks: 1000, maxAgeMs: HOUR } })
  open.push(made.history)
  await made.history.open()
  return made.operator
}

/** A book on a fresh (or given) history file, its coordinator, and a clock the test moves. */
async function setup(file = join(mkdtempSync(join(tmpdir(), 'sm-sched-')), 'swarm.db')) {
  const clock = { now: T0 }
  const coordinator = new Coordinator({ emit: () => {} })
  const store = await storeAt(file)
  const book = new ScheduleBook({
    store,
    runner: coordinatorRunner(coordinator, { durable: async () => {}, outage: () => null }),
    logger: silent,
    now: () => clock.now,
  })
  await book.load()
  return { clock, coordinator, book, store, file }
}

const create = (book: ScheduleBook, fields: Record<string, unknown> = {}) =>
  book.create(
    ScheduleCreateSchema.parse({
      name: 'hourly build',
      cron: '0 * * * *',
      task: { name: 'build', kind: 'test' },
      ...fields,
    }),
    'alice',
  )

describe('ScheduleBook', () => {
  it('answers the next five run times in its timezone, and fires once per due time', async () => {
    const { clock, book, coordinator } = await setup()
    const paris = await create(book, { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' })
    // 2 March 2026 is a Monday; 09:00 in Paris is 08:00 UTC in winter.
    expect(paris.nextRuns.map((at) => new Date(at).toISOString())).toEqual([
      '2026-03-03T08:00:00.000Z',
      '2026-03-04T08:00:00.000Z',
      '2026-03-05T08:00:00.000Z',
      '2026-03-06T08:00:00.000Z',
      '2026-03-09T08:00:00.000Z',
    ])
    const hourly = await create(book, { overlap: 'allow' })
    expect(hourly.nextRunAt).toBe(Date.parse('2026-03-02T11:00:00Z'))

    clock.now = Date.parse('2026-03-02T10:59:59Z')
    await book.tick()
    expect(coordinator.listTasks().total).toBe(0)

    clock.now = Date.parse('2026-03-02T11:00:00Z')
    await book.tick()
    await book.tick()
    const ran = book.get(hourly.id)
    expect(ran.lastRun).toMatchObject({ trigger: 'cron', outcome: 'started', state: 'queued', workflowId: null })
    expect(coordinator.getTask(ran.lastRun!.taskId!)).toMatchObject({ name: 'build', kind: 'test' })
    expect(ran.nextRunAt).toBe(Date.parse('2026-03-02T12:00:00Z'))

    // A tick three hours late (a suspended machine) makes one run, not three.
    clock.now = Date.parse('2026-03-02T15:00:30Z')
    await book.tick()
    expect(coordinator.listTasks().total).toBe(2)
    expect(book.get(hourly.id).nextRunAt).toBe(Date.parse('2026-03-02T16:00:00Z'))
  })

  it('skips a run while the previous one has not ended (overlap "skip"), and runs again once it has', async () => {
    const { clock, book, coordinator } = await setup()
    const s = await create(book)
    clock.now = T0 + 0.5 * HOUR
    await book.tick()
    const first = book.get(s.id).lastRun!
    clock.now += HOUR
    await book.tick()
    expect(book.get(s.id).lastRun).toMatchObject({
      outcome: 'skipped',
      reason: 'the previous run has not ended',
      taskId: null,
    })
    expect(coordinator.listTasks().total).toBe(1)

    coordinator.cancel(first.taskId!)
    clock.now += HOUR
    await book.tick()
    expect(book.get(s.id).lastRun).toMatchObject({ outcome: 'started', state: 'queued' })
    expect(coordinator.listTasks().total).toBe(2)
  })

  it('keeps one run waiting behind an unfinished one (overlap "queue") and starts it when that one ends', async () => {
    const { clock, book, coordinator } = await setup()
    const s = await create(book, { overlap: 'queue' })
    clock.now = T0 + 0.5 * HOUR
    await book.tick()
    const first = book.get(s.id).lastRun!
    clock.now += HOUR
    await book.tick()
    expect(book.get(s.id).pending).toMatchObject({ outcome: 'queued', trigger: 'cron' })
    // A third due while one waits: skipped, the waiting one stays.
    clock.now += HOUR
    await book.tick()
    expect(book.get(s.id)).toMatchObject({
      pending: { outcome: 'queued' },
      lastRun: { outcome: 'skipped', reason: 'a run already waits for the previous one' },
    })
    expect(coordinator.listTasks().total).toBe(1)

    coordinator.cancel(first.taskId!)
    await book.tick()
    const after = book.get(s.id)
    expect(after.pending).toBeNull()
    expect(after.lastRun).toMatchObject({ outcome: 'started', state: 'queued' })
    expect(after.lastRun!.taskId).not.toBe(first.taskId)
  })

  it('starts every run regardless (overlap "allow")', async () => {
    const { clock, book, coordinator } = await setup()
    await create(book, { overlap: 'allow' })
    for (let i = 0; i < 3; i++) {
      clock.now += HOUR
      await book.tick()
    }
    expect(coordinator.listTasks().total).toBe(3)
  })

  it('makes no run while paused, none for the paused hours on resume, and runs now on demand', async () => {
    const { clock, book, coordinator } = await setup()
    const s = await create(book)
    expect(await book.pause(s.id)).toMatchObject({ paused: true, nextRunAt: null, nextRuns: [] })
    clock.now += 5 * HOUR
    await book.tick()
    expect(coordinator.listTasks().total).toBe(0)

    const resumed = await book.resume(s.id)
    expect(resumed.nextRunAt).toBe(Date.parse('2026-03-02T16:00:00Z'))
    await book.tick()
    expect(coordinator.listTasks().total).toBe(0)

    await book.pause(s.id)
    const ran = await book.runNow(s.id)
    expect(ran.lastRun).toMatchObject({ trigger: 'manual', outcome: 'started' })
    expect(coordinator.listTasks().total).toBe(1)
  })

  it('submits a workflow per run', async () => {
    const { book, coordinator } = await setup()
    const s = await create(book, {
      task: undefined,
      workflow: {
        name: 'nightly',
        tasks: [
          { key: 'a', name: 'a', kind: 'test' },
          { key: 'b', name: 'b', kind: 'test', dependsOn: ['a'] },
        ],
      },
    })
    const ran = await book.runNow(s.id)
    expect(ran.lastRun).toMatchObject({ outcome: 'started', taskId: null, state: 'active' })
    expect(coordinator.getWorkflow(ran.lastRun!.workflowId!)?.tasks).toHaveLength(2)
  })

  it(`refuses a schedule beyond ${SCHEDULE_LIMITS.schedules}, storing nothing`, async () => {
    const { book, store } = await setup()
    for (let i = 0; i < SCHEDULE_LIMITS.schedules; i++) await create(book, { name: `s${i}` })
    await expect(create(book, { name: 'one more' })).rejects.toMatchObject({ code: 'conflict' })
    expect(await store.schedules()).toHaveLength(SCHEDULE_LIMITS.schedules)
  })

  it('after a restart makes one catch-up run for the runs missed while down (none when paused), then the cadence', async () => {
    const first = await setup()
    const running = await create(first.book)
    const paused = await create(first.book, { name: 'paused one' })
    await first.book.pause(paused.id)
    const gone = await create(first.book, { name: 'deleted' })
    await first.book.delete(gone.id)
    first.clock.now = T0 + HOUR
    await first.book.tick()
    expect(first.book.get(running.id).lastRun).toMatchObject({ trigger: 'cron' })
    await open.splice(0)[0]!.close()

    // Down for five hours: runs at 12:00 … 16:00 missed.
    const second = await setup(first.file)
    second.clock.now = Date.parse('2026-03-02T16:20:00Z')
    const reloaded = new ScheduleBook({
      store: second.store,
      runner: coordinatorRunner(second.coordinator, { durable: async () => {}, outage: () => null }),
      logger: silent,
      now: () => second.clock.now,
    })
    await reloaded.load()
    expect(reloaded.list().map((s) => s.name)).toEqual(['hourly build', 'paused one'])
    await reloaded.start()
    reloaded.stop()
    expect(second.coordinator.listTasks().total).toBe(1)
    const caught: Schedule = reloaded.get(running.id)
    expect(caught.lastRun).toMatchObject({ trigger: 'catch-up', outcome: 'started' })
    expect(caught.nextRunAt).toBe(Date.parse('2026-03-02T17:00:00Z'))
    expect(reloaded.get(paused.id)).toMatchObject({ paused: true, lastRun: null })

    await reloaded.tick()
    expect(second.coordinator.listTasks().total).toBe(1)
  })

  it('refuses a cron that fires more than once a minute, a bad cron or timezone, and a task with dependencies, naming the field', () => {
    const issues = (fields: Record<string, unknown>) => {
      const parsed = ScheduleCreateSchema.safeParse({
        name: 'n',
        cron: '0 * * * *',
        task: { name: 't', kind: 'test' },
        ...fields,
      })
      return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    }
    expect(issues({ cron: '*/10 * * * * *' })).toEqual([expect.stringMatching(/^cron: .*more than once a minute/)])
    expect(issues({ cron: '0 * * *' })).toEqual([expect.stringMatching(/^cron: /)])
    expect(issues({ timezone: 'Mars/Olympus' })).toEqual([expect.stringMatching(/^timezone: unknown timezone/)])
    expect(issues({ task: { name: 't', kind: 'test', dependsOn: ['x'] } })).toEqual([
      expect.stringMatching(/^task.dependsOn: /),
    ])
    expect(issues({ task: { name: '', kind: 'test' } })).toEqual([expect.stringMatching(/^task.name: /)])
    expect(issues({ task: undefined })).toEqual(['task: give a task or a workflow (one of them)'])
    expect(issues({ overlap: 'sometimes' })).toEqual([expect.stringMatching(/^overlap: /)])
    expect(issues({ cron: '30 * * * * *' })).toEqual([])
  })
})
