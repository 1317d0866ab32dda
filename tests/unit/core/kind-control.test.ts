/**
 * Per-kind limits as operators change them, on a real SQLite history: stored
 * then applied, changes one after another (two at once on a kind keep both),
 * the bound on kinds with limits, and a change the database refuses applied
 * nowhere.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { KindControl } from '../../../src/main/core/pipeline/kind-control'
import type { TaskHistory } from '../../../src/main/core/storage/history'
import { createStorage } from '../../../src/main/core/storage/open-history'
import { KIND_LIMITS } from '../../../src/shared/kinds'
import { sqliteFixture } from '../../helpers/histories'

const open: { history: TaskHistory; coordinator: Coordinator }[] = []
afterEach(async () => {
  for (const { history, coordinator } of open.splice(0)) {
    coordinator.stop()
    await history.close()
  }
})

async function control() {
  const db = await sqliteFixture().database()
  const { history, operator } = createStorage(db.target, { retention: { maxTasks: 100, maxAgeMs: 86_400_000 } })
  await history.open()
  const coordinator = new Coordinator({ emit: () => {} })
  open.push({ history, coordinator })
  return { kinds: new KindControl(coordinator, operator), coordinator, operator, db }
}

describe('KindControl', () => {
  it('keeps both of two changes to one kind made at once, in the store and in force', async () => {
    const { kinds, coordinator, operator } = await control()
    await Promise.all([kinds.update({ kind: 'build', maxRunning: 2 }), kinds.update({ kind: 'build', paused: true })])
    expect(coordinator.kindLimits('build')).toEqual({ paused: true, maxRunning: 2, maxPerMinute: null })
    expect(await operator.kindLimits()).toEqual([{ kind: 'build', paused: true, maxRunning: 2, maxPerMinute: null }])
  })

  it(`keeps limits for at most ${KIND_LIMITS.configured} kinds; clearing one makes room`, async () => {
    const { kinds, coordinator } = await control()
    for (let i = 0; i < KIND_LIMITS.configured; i++) await kinds.update({ kind: `k${i}`, paused: true })
    await expect(kinds.update({ kind: 'one-more', paused: true })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('clear one first'),
    })
    // A kind already limited may change; one more may come once one is cleared.
    await kinds.update({ kind: 'k0', maxRunning: 3 })
    await kinds.update({ kind: 'k1', paused: false })
    await kinds.update({ kind: 'one-more', paused: true })
    expect(coordinator.configuredKinds().size).toBe(KIND_LIMITS.configured)
  })

  it('applies nothing the database refuses, and the next change goes through', async () => {
    const { kinds, coordinator, db } = await control()
    await db.raw("CREATE TRIGGER boom BEFORE INSERT ON kind_limits BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    await expect(kinds.update({ kind: 'build', paused: true })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('disk on fire'),
    })
    expect(coordinator.configuredKinds().size).toBe(0)
    await db.raw('DROP TRIGGER boom')
    await kinds.update({ kind: 'build', paused: true })
    expect(coordinator.kindLimits('build').paused).toBe(true)
  })
})
