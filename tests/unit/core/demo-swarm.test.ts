import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Alert } from '../../../src/shared/domain'
import type { SwarmChange } from '../../../src/shared/events'
import { AlertEngine } from '../../../src/main/core/alerts/engine'
import { swarmSources } from '../../../src/main/core/alerts/sources'
import { loadConfig } from '../../../src/main/core/config/config'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { DemoSwarm } from '../../../src/main/core/demo/demo-swarm'
import { MetricsSampler } from '../../../src/main/core/metrics/sampler'

/** A seeded generator (mulberry32), so a run is the same every time. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('DemoSwarm', () => {
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

  it('starts its agents and streams tasks through queued, running and a finish', async () => {
    const demo = new DemoSwarm(coordinator, { agents: 6, rate: 5, random: seeded(1) })
    demo.start()
    expect(coordinator.listAgents().map((agent) => agent.kind)).toEqual(Array(6).fill('demo'))
    await vi.advanceTimersByTimeAsync(30_000)
    demo.stop()
    const seen = new Set(events.flatMap((event) => (event.type === 'task:status' ? [event.task.status] : [])))
    expect([...seen]).toEqual(expect.arrayContaining(['queued', 'assigned', 'running', 'succeeded', 'failed']))
    const agentStatuses = new Set(
      events.flatMap((event) => (event.type === 'agent:status' ? [event.agent.status] : [])),
    )
    expect([...agentStatuses]).toEqual(expect.arrayContaining(['idle', 'busy']))
    // About 5 tasks a second for 30 s: Poisson arrivals, so a loose band.
    const submitted = coordinator.listTasks({ limit: 1000 }).total
    expect(submitted).toBeGreaterThan(100)
    expect(submitted).toBeLessThan(220)
  })

  it('names its agents in log text as the dashboard names them, not by their ids', async () => {
    const demo = new DemoSwarm(coordinator, { agents: 3, rate: 5, random: seeded(3) })
    demo.start()
    await vi.advanceTimersByTimeAsync(10_000)
    demo.stop()
    const names = new Map(coordinator.listAgents().map((agent) => [agent.id, agent.name]))
    const started = events.flatMap((event) =>
      event.type === 'task:log' && event.message.includes(' started on ') ? [event] : [],
    )
    expect(started.length).toBeGreaterThan(5)
    for (const line of started) expect(line.message).toMatch(new RegExp(` started on ${names.get(line.agentId!)}$`))
  })

  it('generates no tasks at rate 0 and stops cleanly', async () => {
    const demo = new DemoSwarm(coordinator, { agents: 2, rate: 0, random: seeded(2) })
    demo.start()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(coordinator.listTasks().total).toBe(0)
    demo.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('feeds the metrics sampler: queue depth, running and throughput', async () => {
    const sampler = new MetricsSampler(coordinator, { emit: (event) => events.push(event), historySize: 5 })
    const demo = new DemoSwarm(coordinator, { agents: 4, rate: 10, random: seeded(3) })
    demo.start()
    sampler.start()
    await vi.advanceTimersByTimeAsync(20_000)
    sampler.stop()
    demo.stop()
    const state = sampler.state()
    expect(state.history).toHaveLength(5)
    expect(state.current.queued).toBeGreaterThan(0)
    expect(state.current.running).toBeGreaterThan(0)
    expect(state.current.agents.busy + state.current.agents.idle).toBe(4)
    expect(state.history.some((sample) => sample.throughput > 0)).toBe(true)
    expect(events.filter((event) => event.type === 'metrics')).toHaveLength(20)
  })
})

describe('DemoSwarm heartbeats', () => {
  afterEach(() => vi.useRealTimers())

  it('reports every agent alive with resource figures every 5 s', async () => {
    vi.useFakeTimers()
    const coordinator = new Coordinator({ emit: () => {} })
    const demo = new DemoSwarm(coordinator, { agents: 3, rate: 0, random: seeded(4) })
    demo.start()
    const joined = coordinator.getAgent('demo-01')!.lastHeartbeat
    await vi.advanceTimersByTimeAsync(5000)
    const agent = coordinator.getAgent('demo-01')!
    expect(agent.lastHeartbeat).toBe(joined + 5000)
    expect(agent.resources).toEqual({ cpu: expect.any(Number), memoryMb: expect.any(Number) })
    demo.stop()
    coordinator.stop()
  })
})

/**
 * The demo swarm as a fresh start runs it (the configuration's defaults), with
 * the alert rules at their defaults watching: a first look at the dashboard
 * must not meet a "backlog growing" warning the demo itself caused.
 */
describe('the default demo swarm', () => {
  afterEach(() => vi.useRealTimers())

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`keeps up with its own task stream: no backlog alert in five minutes (seed ${seed})`, async () => {
      vi.useFakeTimers()
      const config = loadConfig([], {})
      const raised: Alert[] = []
      const coordinator = new Coordinator({ emit: () => {} })
      const sampler = new MetricsSampler(coordinator, { emit: () => {} })
      const alerts = new AlertEngine(swarmSources(coordinator, sampler), {
        emit: (event) => {
          if (event.type === 'alert') raised.push(event.alert)
        },
      })
      const demo = new DemoSwarm(coordinator, {
        agents: config.demoAgents,
        rate: config.demoRate,
        random: seeded(seed),
      })
      sampler.start()
      alerts.start()
      demo.start()
      await vi.advanceTimersByTimeAsync(5 * 60_000)
      demo.stop()
      alerts.stop()
      sampler.stop()
      coordinator.stop()
      const depths = sampler.state(300).history.map((sample) => sample.queued)
      expect(
        raised.filter((alert) => alert.rule === 'backlog-growing'),
        `queue depths: ${depths.join(' ')}`,
      ).toEqual([])
      expect(Math.max(...depths)).toBeLessThan(30)
    })
  }
})
