/**
 * The audit trail's write side over a real SQLite store: one log line per
 * record, cleaned and bounded text, batched writes that a read waits for,
 * records kept (bounded) while the store refuses them and written once it
 * takes them again, retention.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../../src/shared/audit'
import { AuditTrail } from '../../../src/main/core/storage/audit-trail'
import type { TaskHistory } from '../../../src/main/core/storage/history'
import { createStorage } from '../../../src/main/core/storage/open-history'
import type { OperatorStore } from '../../../src/main/core/storage/operator-store'

const histories: TaskHistory[] = []
afterEach(async () => {
  await Promise.all(histories.splice(0).map((h) => h.close()))
})

async function store(): Promise<OperatorStore> {
  const file = join(mkdtempSync(join(tmpdir(), 'sm-audit-')), 'swarm.db')
  const made = createStorage({ kind: 'sqlite', file }, { retention: { maxTasks: 10, maxAgeMs: 60_000 } })
  histories.push(made.history)
  await made.history.open()
  return made.operator
}

function logger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = []
  const say = (level: string) => (fields: object, message: string) =>
    void lines.push({ level, fields: fields as Record<string, unknown>, message })
  return { lines, info: say('info'), warn: say('warn') }
}

const record = (fields: Partial<AuditRecord> = {}): AuditRecord => ({
  at: Date.now(),
  actor: 'alice',
  role: 'operator',
  address: '127.0.0.1',
  via: 'socket',
  action: 'task:cancel',
  target: 't-1',
  outcome: 'ok',
  code: null,
  message: null,
  ...fields,
})

describe('AuditTrail', () => {
  it('logs each record at once, one line, and a read sees it before the batch timer', async () => {
    const log = logger()
    const trail = new AuditTrail(await store(), {
      logger: log,
      retention: { maxEntries: 100, maxAgeMs: 60_000 },
      flushMs: 60_000,
    })
    trail.start()
    trail.record(record())
    trail.record(
      record({
        actor: null,
        role: null,
        action: 'auth',
        via: 'http',
        target: 'GET /api/snapshot',
        outcome: 'refused',
        code: 'unauthorized',
        message: 'invalid token',
      }),
    )
    expect(log.lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'operator command'],
      ['warn', 'request refused'],
    ])
    expect(log.lines[1]!.fields).toMatchObject({
      audit: true,
      actor: null,
      target: 'GET /api/snapshot',
      reason: 'invalid token',
    })
    const page = await trail.query({ limit: 10 })
    expect(page.entries.map((e) => e.action)).toEqual(['auth', 'task:cancel'])
    await trail.close()
  })

  it('blanks control characters and bounds the lengths of what clients chose', async () => {
    const log = logger()
    const trail = new AuditTrail(await store(), { logger: log, retention: { maxEntries: 100, maxAgeMs: 60_000 } })
    trail.start()
    trail.record(
      record({ target: `a\u0000b\nc${'x'.repeat(400)}`, message: 'm'.repeat(900), address: 'f'.repeat(100) }),
    )
    const [entry] = (await trail.query({ limit: 1 })).entries
    expect(entry!.target).toMatch(/^a b cx+$/)
    expect(entry!.target).toHaveLength(256)
    expect(entry!.message).toHaveLength(500)
    expect(entry!.address).toHaveLength(64)
    expect(log.lines[0]!.fields.target).toBe(entry!.target)
    await trail.close()
  })

  it('keeps records while the store refuses them (the oldest go past the bound) and writes them once it takes them', async () => {
    const real = await store()
    let refusing = true
    const flaky: OperatorStore = {
      ...real,
      appendAudit: (records) => (refusing ? Promise.reject(new Error('disk on fire')) : real.appendAudit(records)),
      audit: (query) => real.audit(query),
    }
    const log = logger()
    const trail = new AuditTrail(flaky, {
      logger: log,
      retention: { maxEntries: 100, maxAgeMs: 60_000 },
      maxPending: 3,
      flushMs: 10,
    })
    trail.start()
    for (let i = 0; i < 5; i++) trail.record(record({ target: `t-${i}` }))
    expect(trail.waiting).toBe(3)
    expect(log.lines.filter((l) => l.message.includes('beyond the bound'))).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(log.lines.filter((l) => l.message.includes('cannot be stored now'))).toHaveLength(1)
    refusing = false
    const page = await trail.query({ limit: 10 })
    expect(page.entries.map((e) => e.target)).toEqual(['t-4', 't-3', 't-2'])
    expect(trail.waiting).toBe(0)
    // Every record is in the log, the dropped ones too.
    expect(log.lines.filter((l) => l.fields.audit === true)).toHaveLength(5)
    await trail.close()
  })

  it('applies its retention', async () => {
    const trail = new AuditTrail(await store(), { logger: logger(), retention: { maxEntries: 2, maxAgeMs: 60_000 } })
    trail.start()
    for (let i = 0; i < 4; i++) trail.record(record({ target: `t-${i}`, at: Date.now() - (i === 0 ? 120_000 : 0) }))
    await trail.query({ limit: 1 })
    expect(await trail.prune()).toBe(2)
    expect((await trail.query({ limit: 10 })).entries.map((e) => e.target)).toEqual(['t-3', 't-2'])
    await trail.close()
  })
})
