/**
 * The OperatorStore contract (audit trail, saved views, metric samples, kind limits), run
 * against both history backends: SQLite (a temp file) and PostgreSQL (a real
 * server this file starts, one database per test).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../../src/shared/audit'
import type { MetricsSample } from '../../../src/shared/domain'
import type { SavedView } from '../../../src/shared/saved-views'
import { HistoryQueryError, type TaskHistory } from '../../../src/main/core/storage/history'
import { createStorage, type BackendOptions } from '../../../src/main/core/storage/open-history'
import { OPERATOR_SCHEMA_VERSION } from '../../../src/main/core/storage/operator-schema'
import { KIND_LIMITS_SCHEMA_VERSION } from '../../../src/main/core/storage/kind-limits-schema'
import type { OperatorStore } from '../../../src/main/core/storage/operator-store'
import { SCHEDULE_SCHEMA_VERSION } from '../../../src/main/core/storage/schedule-schema'
import type { StoredSchedule } from '../../../src/main/core/storage/schedule-store'
import { postgresFixture, sqliteFixture, status, task, type TestDatabase } from '../../helpers/histories'
import { sample as baseSample } from '../../helpers/factories'

const DAY = 24 * 3600 * 1000

function record(fields: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: 1000,
    actor: 'alice',
    role: 'operator',
    address: '127.0.0.1',
    via: 'http',
    action: 'task:cancel',
    target: 't1',
    outcome: 'ok',
    code: null,
    message: null,
    ...fields,
  }
}

/** A sample with one idle agent and no durations, unless given. */
const sample = (at: number, fields: Partial<MetricsSample> = {}): MetricsSample =>
  baseSample(at, {
    agents: { idle: 1, busy: 0, paused: 0, error: 0, offline: 0 },
    durationP50Ms: null,
    durationP95Ms: null,
    ...fields,
  })

const view = (fields: Partial<SavedView> = {}): SavedView => ({
  id: 'v1',
  name: 'Failed shell',
  view: 'tasks',
  params: { 'tasks.status': 'failed', 'tasks.q': 'shell' },
  createdBy: 'alice',
  createdAt: 5000,
  ...fields,
})

const schedule = (fields: Partial<StoredSchedule> = {}): StoredSchedule => ({
  id: 's1',
  name: 'nightly',
  cron: '0 2 * * *',
  timezone: 'UTC',
  overlap: 'skip',
  target: 'task',
  task: { name: 'build', kind: 'shell', payload: { command: 'make' } },
  workflow: null,
  paused: false,
  createdBy: 'alice',
  createdAt: 1000,
  nextRunAt: 86_400_000 + 7_200_000,
  lastRun: { at: 900, trigger: 'manual', outcome: 'started', reason: null, taskId: 't1', workflowId: null },
  pending: null,
  ...fields,
})

describe.each([sqliteFixture(), postgresFixture()])('OperatorStore on $name', (backend) => {
  beforeAll(() => backend.setup(), 30_000)
  afterAll(() => backend.teardown())

  const open: TaskHistory[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((history) => history.close()))
  })

  async function storage(db: TestDatabase, options: BackendOptions = {}): Promise<OperatorStore> {
    const made = createStorage(db.target, { retention: { maxTasks: 1000, maxAgeMs: 30 * DAY }, ...options })
    open.push(made.history)
    await made.history.open()
    return made.operator
  }

  it('appends audit records in order and pages them newest first, filtered, with a total', async () => {
    const store = await storage(await backend.database())
    await store.appendAudit([
      record({ at: 1000, target: 't1' }),
      record({ at: 2000, actor: 'bob', action: 'task:retry', target: 't2' }),
      record({
        at: 3000,
        actor: null,
        role: null,
        action: 'auth',
        target: '/dashboard',
        outcome: 'refused',
        code: 'unauthorized',
        message: 'invalid token',
        via: 'socket',
      }),
    ])
    await store.appendAudit([
      record({ at: 4000, target: 't3', outcome: 'refused', code: 'conflict', message: 'finished' }),
    ])

    const first = await store.audit({ limit: 2 })
    expect(first.total).toBe(4)
    expect(first.entries.map((e) => e.at)).toEqual([4000, 3000])
    expect(first.entries[1]).toMatchObject({ actor: null, role: null, via: 'socket', code: 'unauthorized' })
    expect(first.next).not.toBeNull()
    const second = await store.audit({ limit: 2, cursor: first.next! })
    expect(second.entries.map((e) => e.at)).toEqual([2000, 1000])
    expect(second.next).toBeNull()
    expect(second.entries[0]!.id).toBeLessThan(first.entries[1]!.id)

    expect((await store.audit({ limit: 10, actor: 'bob' })).entries.map((e) => e.target)).toEqual(['t2'])
    expect((await store.audit({ limit: 10, outcome: 'refused' })).total).toBe(2)
    expect((await store.audit({ limit: 10, action: 'task:cancel', since: 2000 })).entries.map((e) => e.at)).toEqual([
      4000,
    ])
    expect((await store.audit({ limit: 10, until: 2000 })).entries.map((e) => e.at)).toEqual([1000])
    expect((await store.audit({ limit: 10, role: 'operator', target: 't1' })).total).toBe(1)
    await expect(store.audit({ limit: 2, cursor: 'nope' })).rejects.toBeInstanceOf(HistoryQueryError)
  })

  it('prunes the audit trail by age and by count, never reusing an id', async () => {
    const store = await storage(await backend.database())
    await store.appendAudit([1, 2, 3, 4, 5].map((n) => record({ at: n * 1000, target: `t${n}` })))
    expect(await store.pruneAudit(2000, 100)).toBe(1)
    expect(await store.pruneAudit(0, 2)).toBe(2)
    const left = await store.audit({ limit: 10 })
    expect(left.entries.map((e) => e.target)).toEqual(['t5', 't4'])
    const highest = left.entries[0]!.id
    await store.pruneAudit(Number.MAX_SAFE_INTEGER, 0)
    await store.appendAudit([record({ target: 'after' })])
    expect((await store.audit({ limit: 1 })).entries[0]!.id).toBeGreaterThan(highest)
  })

  it('saves, replaces by name (case aside), lists, bounds and deletes views', async () => {
    const store = await storage(await backend.database())
    expect(await store.views()).toEqual([])
    expect(await store.saveView(view(), 2)).toEqual({ outcome: 'created', view: view() })
    const replaced = await store.saveView(
      view({ id: 'v9', name: 'FAILED SHELL', params: { 'tasks.status': 'failed' } }),
      2,
    )
    expect(replaced).toMatchObject({ outcome: 'replaced', view: { id: 'v1', name: 'FAILED SHELL' } })
    await store.saveView(
      view({ id: 'v2', name: 'Agents busy', view: 'agents', params: { 'agents.status': 'busy' } }),
      2,
    )
    expect(await store.saveView(view({ id: 'v3', name: 'Third' }), 2)).toMatchObject({ outcome: 'full' })
    expect((await store.views()).map((v) => [v.id, v.name, v.params])).toEqual([
      ['v2', 'Agents busy', { 'agents.status': 'busy' }],
      ['v1', 'FAILED SHELL', { 'tasks.status': 'failed' }],
    ])
    expect(await store.deleteView('v1')).toMatchObject({ id: 'v1', createdBy: 'alice', createdAt: 5000 })
    expect(await store.deleteView('v1')).toBeNull()
    expect((await store.views()).map((v) => v.id)).toEqual(['v2'])
  })

  it('keeps metric samples per tier: upserts by time, reads a span in order, prunes, skips a damaged row', async () => {
    const db = await backend.database()
    const store = await storage(db)
    await store.appendSamples(1000, [sample(1000, { queued: 1 }), sample(2000, { queued: 2 }), sample(3000)])
    await store.appendSamples(1000, [sample(2000, { queued: 7 })])
    await store.appendSamples(60_000, [sample(0, { queued: 9 })])
    expect((await store.samples(1000, 1000, 3000)).map((s) => [s.at, s.queued])).toEqual([
      [1000, 1],
      [2000, 7],
    ])
    expect((await store.samples(60_000, 0, 10_000)).map((s) => s.queued)).toEqual([9])
    await db.raw('UPDATE metric_samples SET data = ? WHERE step_ms = ? AND at = ?', ['{"at":"x"}', 1000, 2000])
    expect((await store.samples(1000, 0, 10_000)).map((s) => s.at)).toEqual([1000, 3000])
    expect(await store.pruneSamples(1000, 3000)).toBe(2)
    expect((await store.samples(1000, 0, 10_000)).map((s) => s.at)).toEqual([3000])
    expect(await store.samples(60_000, 0, 10_000)).toHaveLength(1)
  })

  it('keeps per-kind limits across a reopen, replaces them, and drops a kind set back to its defaults', async () => {
    const db = await backend.database()
    const store = await storage(db)
    await store.saveKindLimits({ kind: 'build', paused: true, maxRunning: 2, maxPerMinute: null }, 1000)
    await store.saveKindLimits({ kind: 'a-test', paused: false, maxRunning: null, maxPerMinute: 10 }, 1000)
    await store.saveKindLimits({ kind: 'build', paused: false, maxRunning: 3, maxPerMinute: null }, 2000)
    await open.splice(0)[0]!.close()

    const again = await storage(db)
    expect(await again.kindLimits()).toEqual([
      { kind: 'a-test', paused: false, maxRunning: null, maxPerMinute: 10 },
      { kind: 'build', paused: false, maxRunning: 3, maxPerMinute: null },
    ])
    await again.saveKindLimits({ kind: 'build', paused: false, maxRunning: null, maxPerMinute: null }, 3000)
    expect((await again.kindLimits()).map((limits) => limits.kind)).toEqual(['a-test'])
  })

  it('adds the kind limits table to a database at the version before it', async () => {
    const db = await backend.database()
    const old = createStorage(db.target, {
      retention: { maxTasks: 10, maxAgeMs: DAY },
      targetVersion: KIND_LIMITS_SCHEMA_VERSION - 1,
    })
    await old.history.open()
    await old.operator.appendAudit([record()])
    await old.history.close()
    expect(await db.schemaVersion()).toBe(KIND_LIMITS_SCHEMA_VERSION - 1)

    const store = await storage(db)
    expect(await db.schemaVersion()).toBeGreaterThanOrEqual(KIND_LIMITS_SCHEMA_VERSION)
    expect(await store.kindLimits()).toEqual([])
    expect((await store.audit({ limit: 5 })).total).toBe(1)
  })

  it('brings a database at the version before its tables forward, keeping the tasks', async () => {
    const db = await backend.database()
    const old = createStorage(db.target, {
      retention: { maxTasks: 10, maxAgeMs: DAY },
      targetVersion: OPERATOR_SCHEMA_VERSION - 1,
    })
    await old.history.open()
    old.history.record(status(task({ id: 'kept' })))
    await old.history.durable('kept')
    await old.history.close()
    expect(await db.schemaVersion()).toBe(OPERATOR_SCHEMA_VERSION - 1)

    const store = await storage(db)
    expect(await db.schemaVersion()).toBeGreaterThanOrEqual(OPERATOR_SCHEMA_VERSION)
    await store.appendAudit([record()])
    expect((await store.audit({ limit: 5 })).total).toBe(1)
    expect((await open[0]!.restore()).tasks.map((t) => t.id)).toEqual(['kept'])
  })

  it('saves, replaces, lists (oldest first) and deletes schedules; a database at version 5 gets their table', async () => {
    const db = await backend.database()
    const old = createStorage(db.target, {
      retention: { maxTasks: 10, maxAgeMs: DAY },
      targetVersion: SCHEDULE_SCHEMA_VERSION - 1,
    })
    await old.history.open()
    await old.history.close()
    const store = await storage(db)
    expect(await db.schemaVersion()).toBeGreaterThanOrEqual(SCHEDULE_SCHEMA_VERSION)
    await store.saveSchedule(schedule({ id: 's2', name: 'second', createdAt: 2000 }))
    await store.saveSchedule(schedule({ id: 's1', name: 'first', createdAt: 1000 }))
    await store.saveSchedule(schedule({ id: 's2', name: 'second', createdAt: 2000, paused: true }))
    expect(await store.schedules()).toEqual([
      schedule({ id: 's1', name: 'first', createdAt: 1000 }),
      schedule({ id: 's2', name: 'second', createdAt: 2000, paused: true }),
    ])
    expect(await store.deleteSchedule('s1')).toBe(true)
    expect(await store.deleteSchedule('s1')).toBe(false)
    expect((await store.schedules()).map((s) => s.id)).toEqual(['s2'])
  })
})
