import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import pino from 'pino'
import { TaskSubmitSchema } from '../../../src/shared/commands'
import type { Task } from '../../../src/shared/domain'
import type { AgentCloseReason } from '../../../src/shared/agent-messages'
import type { SwarmChange } from '../../../src/shared/events'
import { Coordinator, CoordinatorError, type AgentDriver } from '../../../src/main/core/coordinator/coordinator'
import { RemoteAgents, type RemoteLink } from '../../../src/main/core/agents/remote-agents'

class FakeLink implements RemoteLink, AgentDriver {
  readonly address = '127.0.0.1'
  assigned: Task[] = []
  cancelled: string[] = []
  closed: AgentCloseReason[] = []
  assign(task: Task): void {
    this.assigned.push(task)
  }
  cancel(taskId: string): void {
    this.cancelled.push(taskId)
  }
  close(reason: AgentCloseReason): void {
    this.closed.push(reason)
  }
}

const job = (name = 'job') => TaskSubmitSchema.parse({ name, kind: 'test' })
const registration = (
  id = 'r1',
  fields: Partial<{ name: string; capabilities: string[]; concurrency: number }> = {},
) => ({
  id,
  name: id,
  capabilities: [],
  ...fields,
})

describe('Coordinator.reattachAgent', () => {
  let events: SwarmChange[]
  let coordinator: Coordinator
  beforeEach(() => {
    vi.useFakeTimers()
    events = []
    coordinator = new Coordinator({ emit: (event) => events.push(event) })
  })
  afterEach(() => {
    coordinator.stop()
    vi.useRealTimers()
  })

  it('keeps the entry and counters, swaps the driver, clears the fault and requeues what the old driver held', async () => {
    const old = new FakeLink()
    coordinator.addAgent({ id: 'r1', name: 'one', kind: 'remote', capabilities: ['a'] }, old)
    const first = coordinator.submit(job('first'))
    await vi.advanceTimersByTimeAsync(0)
    coordinator.reportSucceeded('r1', first.id)
    const held = coordinator.submit(job('held'))
    await vi.advanceTimersByTimeAsync(0)
    expect(old.assigned.map((t) => t.id)).toEqual([first.id, held.id])
    coordinator.setAgentFault('r1', 'offline')
    coordinator.pauseAgent('r1')

    const fresh = new FakeLink()
    const agent = coordinator.reattachAgent(
      { id: 'r1', name: 'one again', kind: 'remote', capabilities: ['a', 'b'], concurrency: 2 },
      fresh,
    )
    expect(agent).toMatchObject({ name: 'one again', capabilities: ['a', 'b'], concurrency: 2, status: 'paused' })
    expect(agent.counters.done).toBe(1)
    expect(coordinator.listAgents()).toHaveLength(1)
    coordinator.resumeAgent('r1')
    await vi.advanceTimersByTimeAsync(0)
    // The held task was requeued when the agent went offline and now goes to the new driver, as attempt 2.
    expect(fresh.assigned.map((t) => [t.id, t.attempts])).toEqual([[held.id, 2]])
    expect(old.assigned).toHaveLength(2)
  })

  it('requeues tasks the old driver still held when an agent that never went offline is reattached', async () => {
    const old = new FakeLink()
    coordinator.addAgent({ id: 'r1', name: 'one', kind: 'remote', capabilities: [] }, old)
    const task = coordinator.submit(job())
    await vi.advanceTimersByTimeAsync(0)
    const fresh = new FakeLink()
    coordinator.reattachAgent({ id: 'r1', name: 'one', kind: 'remote', capabilities: [] }, fresh)
    await vi.advanceTimersByTimeAsync(0)
    expect(fresh.assigned.map((t) => t.id)).toEqual([task.id])
    // A late report through the old link names the right agent id but is still accepted once only.
    coordinator.reportSucceeded('r1', task.id, 'x')
    coordinator.reportSucceeded('r1', task.id, 'y')
    expect(coordinator.getTask(task.id)).toMatchObject({ status: 'succeeded', result: 'x', attempts: 2 })
    expect(coordinator.getAgent('r1')?.counters.done).toBe(1)
  })

  it('refuses an unknown id or another kind', () => {
    coordinator.addAgent({ id: 'd1', name: 'demo', kind: 'demo', capabilities: [] }, new FakeLink())
    expect(() =>
      coordinator.reattachAgent({ id: 'nope', name: 'x', kind: 'remote', capabilities: [] }, new FakeLink()),
    ).toThrow(CoordinatorError)
    expect(() =>
      coordinator.reattachAgent({ id: 'd1', name: 'x', kind: 'remote', capabilities: [] }, new FakeLink()),
    ).toThrow(/demo agent/)
  })
})

describe('RemoteAgents', () => {
  let coordinator: Coordinator
  let remote: RemoteAgents
  beforeEach(() => {
    vi.useFakeTimers()
    coordinator = new Coordinator({ emit: () => {} })
    remote = new RemoteAgents(coordinator, {
      logger: pino({ level: 'silent' }),
      heartbeatTimeoutMs: 300,
      offlineGraceMs: 5000,
    })
    remote.start()
  })
  afterEach(() => {
    remote.stop()
    coordinator.stop()
    vi.useRealTimers()
  })

  const attach = (link: FakeLink, id = 'r1') => {
    const result = remote.attach(registration(id), link)
    if (!result.ok) throw new Error(result.error.message)
    return result.data.session
  }

  it('marks a silent agent offline, requeues its task, closes its link and removes it after the grace', async () => {
    const link = new FakeLink()
    attach(link)
    const task = coordinator.submit(job())
    await vi.advanceTimersByTimeAsync(0)
    expect(coordinator.getTask(task.id)?.status).toBe('assigned')
    await vi.advanceTimersByTimeAsync(500)
    expect(coordinator.getAgent('r1')?.status).toBe('offline')
    expect(coordinator.getTask(task.id)).toMatchObject({ status: 'queued', agentId: null })
    expect(link.closed).toEqual(['heartbeat_timeout'])
    expect(remote.connected).toBe(0)
    await vi.advanceTimersByTimeAsync(5000)
    expect(coordinator.getAgent('r1')).toBeUndefined()
  })

  it('keeps an agent that speaks: any message counts', async () => {
    const session = attach(new FakeLink())
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(100)
      remote.seen(session)
    }
    expect(coordinator.getAgent('r1')?.status).toBe('idle')
  })

  it('takes an agent back after a disconnect, under the same entry, and cancels its removal', async () => {
    const first = attach(new FakeLink())
    remote.detach(first, 'transport close')
    expect(coordinator.getAgent('r1')?.status).toBe('offline')
    await vi.advanceTimersByTimeAsync(1000)
    const link = new FakeLink()
    const result = remote.attach(registration('r1', { name: 'renamed' }), link)
    expect(result.ok && result.data.agent).toMatchObject({ id: 'r1', name: 'renamed', status: 'idle' })
    if (!result.ok) return expect.unreachable()
    // Past the first removal deadline, alive all along.
    for (let elapsed = 0; elapsed < 6000; elapsed += 100) {
      remote.seen(result.data.session)
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(coordinator.getAgent('r1')?.status).toBe('idle')
    expect(coordinator.listAgents().map((a) => a.id)).toEqual(['r1'])
  })

  it('refuses a second connection for a live id, says when it frees, and the first keeps its task', async () => {
    const firstLink = new FakeLink()
    const first = attach(firstLink)
    const task = coordinator.submit(job())
    await vi.advanceTimersByTimeAsync(0)
    const result = remote.attach(registration('r1'), new FakeLink())
    expect(result).toMatchObject({
      ok: false,
      error: {
        code: 'conflict',
        message: expect.stringMatching(
          /held by a live connection.*closes, or once it has been silent for the heartbeat timeout \(300 ms\)/,
        ),
      },
    })
    expect(firstLink.closed).toEqual([])
    expect(first.current).toBe(true)
    expect(remote.holds(first, task.id)).toBe(true)
    expect(coordinator.getAgent('r1')?.status).toBe('busy')
  })

  it('frees the id at once when its connection ends', () => {
    const first = attach(new FakeLink())
    remote.detach(first, 'transport close')
    expect(remote.attach(registration('r1'), new FakeLink()).ok).toBe(true)
  })

  it("lets the holder's session key take over at once: the old link is closed as replaced and its disconnect changes nothing", async () => {
    const oldLink = new FakeLink()
    const old = attach(oldLink)
    const task = coordinator.submit(job())
    await vi.advanceTimersByTimeAsync(0)
    const newLink = new FakeLink()
    const result = remote.attach({ ...registration('r1'), sessionKey: old.key }, newLink)
    if (!result.ok) return expect.unreachable(result.error.message)
    const fresh = result.data.session
    expect(fresh.key).not.toBe(old.key)
    expect(oldLink.closed).toEqual(['replaced'])
    expect(old.current).toBe(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(newLink.assigned.map((t) => t.id)).toEqual([task.id])
    remote.detach(old, 'io server disconnect')
    expect(coordinator.getAgent('r1')?.status).toBe('busy')
    expect(remote.holds(fresh, task.id)).toBe(true)
    // The old key was used up: it cannot take the id from the new connection.
    expect(remote.attach({ ...registration('r1'), sessionKey: old.key }, new FakeLink())).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringMatching(/not the holder's/) },
    })
  })

  it('refuses a wrong session key like none', () => {
    const link = new FakeLink()
    attach(link)
    for (const sessionKey of ['guess', 'x'.repeat(128)]) {
      expect(remote.attach({ ...registration('r1'), sessionKey }, new FakeLink())).toMatchObject({
        ok: false,
        error: { code: 'conflict' },
      })
    }
    expect(link.closed).toEqual([])
  })

  it('gives every registration a different session key of 32 URL-safe characters or more', () => {
    const keys = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const session = attach(new FakeLink(), `k${i}`)
      expect(session.key).toMatch(/^[A-Za-z0-9_-]{32,}$/)
      keys.add(session.key)
    }
    expect(keys.size).toBe(50)
  })

  it('refuses an id that belongs to a local or demo agent', () => {
    coordinator.addAgent({ id: 'local-1', name: 'local-1', kind: 'local', capabilities: ['shell'] }, new FakeLink())
    const result = remote.attach(registration('local-1'), new FakeLink())
    expect(result).toMatchObject({ ok: false, error: { code: 'conflict' } })
  })
})

describe('RemoteAgents on a clock that moves without the liveness check', () => {
  it('frees an id whose holder is silent past the timeout at the next registration, even before the check runs', () => {
    const clock = { now: 1_000_000 }
    const coordinator = new Coordinator({ emit: () => {}, now: () => clock.now })
    const remote = new RemoteAgents(coordinator, {
      logger: pino({ level: 'silent' }),
      heartbeatTimeoutMs: 300,
      now: () => clock.now,
    })
    try {
      const link = new FakeLink()
      const held = remote.attach(registration('quiet'), link)
      expect(held.ok).toBe(true)
      clock.now += 300
      expect(remote.attach(registration('quiet'), new FakeLink()).ok).toBe(false)
      clock.now += 1
      const taken = remote.attach(registration('quiet'), new FakeLink())
      expect(taken.ok).toBe(true)
      expect(link.closed).toEqual(['heartbeat_timeout'])
    } finally {
      remote.stop()
      coordinator.stop()
    }
  })
})
