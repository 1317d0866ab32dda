/**
 * Bulk actions on a real server: `POST /api/tasks/bulk` and the `task:bulk`
 * command cancel or retry the tasks a filter matches or a list of ids names,
 * answer `{ matched, changed, skipped, skippedTotal }`, leave one audit record
 * with the counts, refuse viewers and bad bodies with nothing changed, and
 * go through 10,000 tasks without holding the event loop, their events
 * reaching a viewer in batches.
 */
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createCore, loadConfig } from '../../src/main/core'
import type { AuditPage } from '../../src/shared/audit'
import type { TaskStatus } from '../../src/shared/domain'
import type { TaskBulkAnswer } from '../../src/shared/task-bulk'
import { closeAgents, registeredRawAgent } from '../helpers/agents'
import { connectDashboard, getJson, postJson, startCore, TEST_TOKENS, TOKEN_ENV, until } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'

type Core = Awaited<ReturnType<typeof startCore>>

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await closeAgents()
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

async function started(): Promise<Core> {
  const core = await startCore(['--no-demo'])
  stops.push(() => core.stop())
  return core
}

/** Queued tasks nobody runs (no agent has the capability). */
function queued(core: Core, count: number, fields: { name?: string; kind?: string } = {}): string[] {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const task = core.coordinator.submit({
      name: `${fields.name ?? 'parked'} ${i}`,
      kind: fields.kind ?? 'k',
      payload: {},
      priority: 0,
      capabilities: ['none'],
      timeoutMs: null,
      maxRetries: 0,
    })
    ids.push(task.id)
  }
  return ids
}

const statusOf = (core: Core, id: string): TaskStatus | undefined => core.coordinator.getTask(id)?.status

async function bulk(core: Pick<Core, 'url'>, body: unknown, token = TEST_TOKENS.operator) {
  return postJson(`${core.url}/api/tasks/bulk`, body, token) as Promise<{ status: number; body: TaskBulkAnswer }>
}

describe('bulk actions', () => {
  it('cancels the unfinished tasks a filter matches, by kind, status and text, and nothing else', async () => {
    const core = await started()
    const builds = queued(core, 5, { kind: 'build', name: 'Nightly build' })
    const tests = queued(core, 3, { kind: 'test', name: 'Nightly test' })
    core.coordinator.cancel(tests[0]!)

    const byKind = await bulk(core, { action: 'cancel', filter: { kind: 'build', status: 'queued' } })
    expect(byKind.status).toBe(200)
    expect(byKind.body).toEqual({
      action: 'cancel',
      dryRun: false,
      matched: 5,
      changed: 5,
      skipped: [],
      skippedTotal: 0,
    })
    for (const id of builds) expect(statusOf(core, id)).toBe('cancelled')
    expect(core.coordinator.getTask(builds[0]!)!.error).toBe('cancelled by operator (bulk action)')
    expect(tests.slice(1).map((id) => statusOf(core, id))).toEqual(['queued', 'queued'])

    // The text matches name, id, kind or error, in any case; the one already cancelled is skipped, saying so.
    const byText = await bulk(core, { action: 'cancel', filter: { text: 'NIGHTLY TEST' } })
    expect(byText.body).toMatchObject({ matched: 3, changed: 2, skippedTotal: 1 })
    expect(byText.body.skipped).toEqual([{ id: tests[0], reason: 'already cancelled' }])
    for (const id of tests) expect(statusOf(core, id)).toBe('cancelled')
  })

  it('cancels by ids over Socket.IO; unknown and finished ids are skipped with the reason, listed ids counted once', async () => {
    const core = await started()
    const [a, b, c] = queued(core, 3)
    core.coordinator.cancel(c!)
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.operator)
    const answer = await socket.emitWithAck('task:bulk', { action: 'cancel', ids: [a!, b!, a!, c!, 't-nope'] })
    socket.disconnect()
    expect(answer).toEqual({
      ok: true,
      data: {
        action: 'cancel',
        dryRun: false,
        matched: 4,
        changed: 2,
        skipped: [
          { id: 't-nope', reason: 'no such task in memory' },
          { id: c, reason: 'already cancelled' },
        ],
        skippedTotal: 2,
      },
    })
    expect([a, b].map((id) => statusOf(core, id!))).toEqual(['cancelled', 'cancelled'])
  })

  it('retries the failed tasks and skips the succeeded one; a dry run first changes nothing', async () => {
    const core = await started()
    const worker = await registeredRawAgent(core.url, 'worker', ['w'])
    let assigned = 0
    worker.on('task:assign', ({ task }) => {
      assigned++
      if (task.name === 'fine') worker.emit('task:complete', { taskId: task.id, result: null }, () => {})
      else worker.emit('task:fail', { taskId: task.id, error: 'exit 1' }, () => {})
    })
    const submit = (name: string) =>
      core.coordinator.submit({
        name,
        kind: 'job',
        payload: {},
        priority: 0,
        capabilities: ['w'],
        timeoutMs: null,
        maxRetries: 0,
      }).id
    const failing = [submit('broken 1'), submit('broken 2'), submit('broken 3')]
    const fine = submit('fine')
    await until(() => [...failing, fine].every((id) => ['failed', 'succeeded'].includes(statusOf(core, id)!)))
    // Gone: the retried tasks wait in the queue, where this test can see them.
    worker.disconnect()
    await until(() => core.coordinator.getAgent('worker')?.status === 'offline' || !core.coordinator.getAgent('worker'))

    const ids = [...failing, fine]
    const dry = await bulk(core, { action: 'retry', ids, dryRun: true })
    expect(dry.body).toMatchObject({ dryRun: true, matched: 4, changed: 3, skippedTotal: 1 })
    expect(failing.map((id) => statusOf(core, id))).toEqual(['failed', 'failed', 'failed'])

    const retried = await bulk(core, { action: 'retry', filter: { kind: 'job', status: ['failed', 'succeeded'] } })
    expect(retried.status).toBe(200)
    expect(retried.body).toMatchObject({ matched: 4, changed: 3, skippedTotal: 1 })
    expect(retried.body.skipped).toEqual([
      { id: fine, reason: 'succeeded: only failed, cancelled or timed-out tasks are retried' },
    ])
    expect(failing.map((id) => statusOf(core, id))).toEqual(['queued', 'queued', 'queued'])
    expect(statusOf(core, fine)).toBe('succeeded')
    expect(assigned).toBe(4)

    // One audit record for each action, its counts in the message.
    const { entries } = (await getJson(`${core.url}/api/audit?action=task:bulk`, TEST_TOKENS.operator))
      .body as AuditPage
    expect(entries.map((e) => [e.outcome, e.target, e.message])).toEqual([
      ['ok', 'retry filter status=failed,succeeded kind=job', 'matched 4, changed 3, skipped 1'],
      ['ok', 'retry 4 ids', 'dry run: matched 4, changed 3, skipped 1'],
    ])
  })

  it('refuses viewers on both doors, with nothing changed', async () => {
    const core = await started()
    const ids = queued(core, 2)
    const http = await bulk(core, { action: 'cancel', ids }, TEST_TOKENS.viewer)
    expect(http.status).toBe(403)
    const viewer = await connectDashboard(core.url, TEST_TOKENS.viewer)
    const answer = await viewer.socket.emitWithAck('task:bulk', { action: 'cancel', filter: {} })
    viewer.socket.disconnect()
    expect(answer).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(ids.map((id) => statusOf(core, id))).toEqual(['queued', 'queued'])
  })

  it('refuses bad bodies with 400 naming the field, and changes nothing', async () => {
    const core = await started()
    const ids = queued(core, 2)
    const cases: [unknown, RegExp][] = [
      [{}, /action/],
      [{ action: 'delete', ids }, /action/],
      [{ action: 'cancel' }, /filter: give exactly one of filter and ids/],
      [{ action: 'cancel', ids, filter: {} }, /filter: give exactly one of filter and ids/],
      [{ action: 'cancel', ids: [] }, /ids/],
      [{ action: 'cancel', ids: Array.from({ length: 1001 }, (_, i) => `t-${i}`) }, /ids/],
      [{ action: 'cancel', ids: [42] }, /ids\.0/],
      [{ action: 'cancel', filter: { status: 'nope' } }, /filter\.status/],
      [{ action: 'cancel', filter: { colour: 'red' } }, /colour/],
      [{ action: 'cancel', filter: { text: '   ' } }, /filter\.text/],
      [{ action: 'cancel', filter: {}, dryRun: 'yes' }, /dryRun/],
      [[{ action: 'cancel', ids }], /expected object/],
      ['not json', /./],
    ]
    for (const [body, named] of cases) {
      const answer = (await postJson(`${core.url}/api/tasks/bulk`, body, TEST_TOKENS.operator)) as {
        status: number
        body: { error: { code: string; message: string } }
      }
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400)
      expect(answer.body.error.code).toBe('bad_request')
      expect(answer.body.error.message).toMatch(named)
    }
    expect(ids.map((id) => statusOf(core, id))).toEqual(['queued', 'queued'])
  })

  it('cancels 10,000 queued tasks without stalling the event loop; viewers get them in batches', async () => {
    const core = await started()
    queued(core, 10_000, { kind: 'bulk' })
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.viewer)
    let messages = 0
    let cancelled = 0
    socket.on('events', (events) => {
      messages++
      for (const event of events) if (event.type === 'task:status' && event.status === 'cancelled') cancelled++
    })
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    const began = performance.now()
    // Two at once: one runs, the other is refused until it has finished.
    const [first, second] = await Promise.all([
      bulk(core, { action: 'cancel', filter: { kind: 'bulk' } }),
      bulk(core, { action: 'cancel', filter: { kind: 'bulk' } }),
    ])
    const tookMs = performance.now() - began
    delay.disable()
    const maxDelayMs = delay.max / 1e6
    expect(maxDelayMs, `max event-loop delay over ${Math.round(tookMs)} ms of work`).toBeLessThan(1000)
    const answers = [first, second].sort((x, y) => x.status - y.status)
    expect(answers.map((a) => a.status)).toEqual([200, 409])
    expect(answers[0]!.body).toMatchObject({ matched: 10_000, changed: 10_000, skippedTotal: 0 })
    await until(() => cancelled === 10_000, 10_000, 'every cancel at the viewer')
    socket.disconnect()
    // Batched: far fewer messages than events (the batcher sends at most 100 events in one).
    expect(messages).toBeLessThan(500)
    expect(core.coordinator.counts().queued).toBe(0)
    console.info(
      `bulk cancel of 10,000: ${Math.round(tookMs)} ms, max loop delay ${Math.round(maxDelayMs)} ms, ${messages} messages`,
    )
  }, 30_000)
})

describe('bulk actions on both history backends', () => {
  const pg = postgresForSuite()

  it.each(['SQLite', 'PostgreSQL'])(
    '%s: the answer comes once every change is stored, and the changes are there after a restart',
    async (backend) => {
      const made = backend === 'PostgreSQL' ? await pg().createDatabase() : null
      const database = made ? ['--database', made.url] : []
      const first = await startCore(['--no-demo', ...database])
      stops.push(() => first.stop())
      // More than one slice (250 tasks), so several commits.
      const ids = queued(first, 600, { kind: 'nightly' })
      await until(() => first.coordinator.counts().queued === 600)
      const answer = await bulk(first, { action: 'cancel', filter: { kind: 'nightly' } })
      expect(answer.body).toMatchObject({ matched: 600, changed: 600 })
      // At once, straight from the database through a connection of its own (not through the server's history).
      const count = "SELECT count(*) AS n FROM tasks WHERE kind = 'nightly' AND status = 'cancelled'"
      let cancelled: number
      if (made) cancelled = Number((await pg().sql(made.name, count))[0]!.n)
      else {
        const db = new Database(join(first.dataDir, 'swarm.db'), { readonly: true })
        cancelled = (db.prepare(count).get() as { n: number }).n
        db.close()
      }
      expect(cancelled).toBe(600)
      await first.stop()
      stops.pop()

      const config = loadConfig(
        [
          '--port',
          '0',
          '--data-dir',
          first.dataDir,
          '--log-level',
          'warn',
          '--local-agents',
          '0',
          '--no-demo',
          ...database,
        ],
        {},
        null,
      )
      const second = createCore(config, { console: false, env: TOKEN_ENV })
      await second.start()
      stops.push(() => second.stop())
      expect(ids.map((id) => second.coordinator.getTask(id)?.status)).toEqual(ids.map(() => 'cancelled'))
      const retried = await bulk(second, { action: 'retry', ids: ids.slice(0, 10) })
      expect(retried.body).toMatchObject({ matched: 10, changed: 10 })
    },
    30_000,
  )
})
