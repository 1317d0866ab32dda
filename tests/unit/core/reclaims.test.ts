/**
 * Work that survives a restart (coordinator/reclaims.ts): a task that was on
 * an agent when the server stopped waits, out of the queue, for that agent to
 * come back and say it still runs it; it gets it back as the same attempt,
 * and its end counts once. Unclaimed, it is queued for anyone after the grace.
 * Timers are faked; everything else is the real coordinator.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TaskSubmitSchema } from '../../../src/shared/commands'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { RecordingDriver, task as storedTask } from '../../helpers/factories'

const GRACE_MS = 15_000
const spec = (id: string, running?: string[]) => ({
  id,
  name: id,
  kind: 'remote' as const,
  capabilities: [],
  concurrency: 4,
  ...(running ? { running } : {}),
})

describe('a restored task that was on an agent', () => {
  let coordinator: Coordinator
  beforeEach(() => {
    vi.useFakeTimers()
    coordinator = new Coordinator({ emit: () => {}, reclaimGraceMs: GRACE_MS })
    // What the history held when the server stopped: one running on a1 (its first attempt), one queued.
    coordinator.restore([
      storedTask('r1', 'running', 1_000, { agentId: 'a1', attempts: 1, startedAt: 1_000 }),
      storedTask('q1', 'queued', 2_000),
    ])
  })
  afterEach(() => {
    coordinator.stop()
    vi.useRealTimers()
  })
  const settle = () => vi.advanceTimersByTimeAsync(0)

  it('waits for its agent: another agent is given the queued one, not it', async () => {
    const other = new RecordingDriver()
    coordinator.addAgent(spec('a2'), other)
    await settle()
    expect(other.assigned.map((task) => task.id)).toEqual(['q1'])
    expect(coordinator.getTask('r1')).toMatchObject({ status: 'queued', agentId: null })
    expect(coordinator.getTask('r1')?.error).toContain('waiting for agent a1')
  })

  it('is given back to its agent as the same attempt, and its end counts once', async () => {
    const back = new RecordingDriver()
    coordinator.addAgent(spec('a1', ['r1', 'unknown-task']), back)
    await settle()
    // Not assigned again: the agent runs it already.
    expect(back.assigned.map((task) => task.id)).toEqual(['q1'])
    expect(coordinator.getTask('r1')).toMatchObject({
      status: 'running',
      agentId: 'a1',
      attempts: 1,
      requeues: 0,
      error: null,
    })
    expect(coordinator.getAgent('a1')?.currentTaskIds).toContain('r1')
    coordinator.reportSucceeded('a1', 'r1', { ok: true })
    expect(coordinator.getTask('r1')).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(coordinator.getAgent('a1')?.counters.done).toBe(1)
    expect(coordinator.totals.succeeded).toBe(1)
    // Nothing waits any more: the grace ending changes nothing.
    await vi.advanceTimersByTimeAsync(GRACE_MS)
    expect(coordinator.getTask('r1')?.status).toBe('succeeded')
  })

  it('is not given to another agent that names it', async () => {
    const impostor = new RecordingDriver()
    coordinator.addAgent(spec('a2', ['r1']), impostor)
    await settle()
    expect(coordinator.getTask('r1')).toMatchObject({ status: 'queued', agentId: null })
    coordinator.reportSucceeded('a2', 'r1')
    expect(coordinator.getTask('r1')?.status).toBe('queued')
  })

  it('is queued for anyone once the grace is over, its agent not back', async () => {
    const other = new RecordingDriver()
    coordinator.addAgent(spec('a2'), other)
    await vi.advanceTimersByTimeAsync(GRACE_MS - 1)
    expect(other.assigned.map((task) => task.id)).toEqual(['q1'])
    await vi.advanceTimersByTimeAsync(1)
    expect(other.assigned.map((task) => task.id)).toEqual(['q1', 'r1'])
    expect(coordinator.getTask('r1')).toMatchObject({ status: 'assigned', agentId: 'a2', attempts: 2 })
    // Too late for the agent that was running it.
    const late = new RecordingDriver()
    coordinator.addAgent(spec('a1', ['r1']), late)
    expect(coordinator.getTask('r1')?.agentId).toBe('a2')
  })

  it('can be cancelled while it waits, and then is nobody’s', async () => {
    coordinator.cancel('r1')
    const back = new RecordingDriver()
    coordinator.addAgent(spec('a1', ['r1']), back)
    await vi.advanceTimersByTimeAsync(GRACE_MS)
    expect(coordinator.getTask('r1')?.status).toBe('cancelled')
    expect(back.assigned.map((task) => task.id)).toEqual(['q1'])
  })
})

describe('an agent that reconnects to a running server', () => {
  it('keeps the tasks it says it still runs; the others go back to the queue', async () => {
    vi.useFakeTimers()
    const coordinator = new Coordinator({ emit: () => {} })
    try {
      const first = new RecordingDriver()
      coordinator.addAgent(spec('a1'), first)
      const kept = coordinator.submit(TaskSubmitSchema.parse({ name: 'kept', kind: 'k' }))
      const lost = coordinator.submit(TaskSubmitSchema.parse({ name: 'lost', kind: 'k' }))
      await vi.advanceTimersByTimeAsync(0)
      coordinator.reportStarted('a1', kept.id)
      const second = new RecordingDriver()
      coordinator.reattachAgent(spec('a1', [kept.id]), second)
      await vi.advanceTimersByTimeAsync(0)
      expect(coordinator.getTask(kept.id)).toMatchObject({ status: 'running', agentId: 'a1', attempts: 1 })
      // The one it does not name is queued again, and given to it again (a new attempt) as it has room.
      expect(second.assigned.map((task) => task.id)).toEqual([lost.id])
      expect(coordinator.getTask(lost.id)).toMatchObject({ agentId: 'a1', attempts: 2, requeues: 1 })
    } finally {
      coordinator.stop()
      vi.useRealTimers()
    }
  })
})
