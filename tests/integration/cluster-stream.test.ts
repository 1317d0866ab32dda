/**
 * The cluster's event stream on a real redis-server (tests/helpers/redis.ts):
 * a leader's fenced writer, followers' readers feeding copies of the swarm
 * (cluster/replica.ts), and what they do when the numbering breaks — a
 * stream trimmed past a follower, Redis restarted empty, a leader that was
 * superseded. Every follower must end with the leader's snapshot, field by
 * field, having applied no event out of order.
 */
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { DomainEvent, UnsequencedEvent } from '../../src/shared/events'
import type { Snapshot } from '../../src/shared/protocol'
import { connectRedis, CLUSTER_KEYS, type RedisConnection } from '../../src/main/core/cluster/redis'
import { StreamWriter } from '../../src/main/core/cluster/event-stream'
import { StreamReader } from '../../src/main/core/cluster/stream-reader'
import { Replica } from '../../src/main/core/cluster/replica'
import { agent, sample, snapshot, task } from '../helpers/factories'
import { until } from '../helpers/core'
import { redisForSuite } from '../helpers/redis-suite'

const logger = pino({ level: 'silent' })
const redis = redisForSuite()
const open: { stop(): Promise<void> | void }[] = []

afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.stop()
})

async function connection(purpose: string): Promise<RedisConnection> {
  const client = await connectRedis(redis().url, logger, purpose)
  open.push({ stop: () => void client.destroy() })
  return client
}

/** A leader: its own copy of the swarm (what its snapshot says) and its writer, numbering from the stream. */
async function leader(term: number, options: { maxLength?: number } = {}) {
  const state = new Replica()
  state.reset(snapshot(0))
  const fenced: string[] = []
  const writer = new StreamWriter(await connection(`leader ${term}`), {
    term,
    logger,
    snapshot: () => state.snapshot(),
    fenced: (message) => fenced.push(message),
    snapshotCheckMs: 20,
    ...options,
  })
  let seq = await writer.claim()
  state.reset(snapshot(seq))
  writer.start()
  open.push(writer)
  const emit = (event: UnsequencedEvent) => {
    const sequenced = { ...event, seq: ++seq } as DomainEvent
    state.apply([sequenced])
    writer.push(sequenced)
  }
  return { state, writer, fenced, emit, seq: () => seq }
}

async function follower() {
  const copy = new Replica()
  const order: number[] = []
  let resets = 0
  const reader = new StreamReader(await connection('follower blocking'), await connection('follower control'), {
    logger,
    blockMs: 200,
    quietLeaderMs: 500,
    snapshotWaitMs: 500,
    reset: (taken) => {
      resets++
      copy.reset(taken)
      order.push(taken.seq)
    },
    apply: (events) => {
      copy.apply(events)
      order.push(...events.map((event) => event.seq))
    },
  })
  reader.start()
  open.push(reader)
  return { copy, reader, order, resets: () => resets }
}

/** A burst of changes: agents joining, tasks added and ending, samples. */
function work(emit: (event: UnsequencedEvent) => void, from: number, count: number): void {
  for (let i = from; i < from + count; i++) {
    const at = 1_700_000_000_000 + i
    if (i % 10 === 0) emit({ type: 'agent:added', at, agent: agent(`a${i}`) })
    else if (i % 7 === 0) emit({ type: 'metrics', at, sample: sample(at, { queued: i }) })
    else emit({ type: 'task:added', at, task: task(`t${i % 40}`, i % 3 ? 'queued' : 'succeeded', at) })
  }
}

/** A snapshot with its lists in id order: the order a Map was filled in is no part of the state. */
function sorted(taken: Snapshot): Snapshot {
  const byId = <T extends { id: string }>(items: T[]) => [...items].sort((a, b) => a.id.localeCompare(b.id))
  return { ...taken, agents: byId(taken.agents), tasks: byId(taken.tasks), alerts: byId(taken.alerts) }
}

/** Each follower's numbering went up by one from a snapshot, never back, never skipping. */
function inOrder(order: number[]): boolean {
  return order.every((seq, i) => i === 0 || seq > order[i - 1]!)
}

describe('the cluster event stream (real Redis)', () => {
  it('brings a follower that joins late to the leader’s state, then keeps it there event by event', async () => {
    await redis().restart()
    const lead = await leader(1)
    work(lead.emit, 0, 300)
    await lead.writer.flush()
    const one = await follower()
    await until(() => one.copy.seq === lead.seq(), 5_000)
    work(lead.emit, 300, 500)
    const two = await follower()
    await until(() => one.copy.seq === lead.seq() && two.copy.seq === lead.seq(), 5_000)
    expect(sorted(one.copy.snapshot())).toEqual(sorted(lead.state.snapshot()))
    expect(sorted(two.copy.snapshot())).toEqual(sorted(lead.state.snapshot()))
    expect(one.resets()).toBe(1)
    expect(inOrder(one.order) && inOrder(two.order)).toBe(true)
    // Ids are the seqs: anyone can read "after N" without knowing the leader.
    const top = (await (await connection('probe')).xRevRange(CLUSTER_KEYS.events, '+', '-', { COUNT: 1 }))?.[0]
    expect(top!.id).toBe(`${lead.seq()}-0`)
  })

  it('takes a fresh snapshot when the stream was trimmed past it, and applies nothing across the gap', async () => {
    await redis().restart()
    const lead = await leader(1, { maxLength: 50 })
    const one = await follower()
    work(lead.emit, 0, 20)
    await until(() => one.copy.seq === lead.seq(), 5_000)
    await one.reader.stop()
    const before = one.copy.seq
    work(lead.emit, 20, 2_000)
    await lead.writer.flush()
    const again = new StreamReader(await connection('b'), await connection('c'), {
      logger,
      blockMs: 200,
      snapshotWaitMs: 500,
      // Resumes from what it had: the stream no longer holds the next event.
      after: { seq: before, term: 1 },
      reset: (taken) => {
        one.copy.reset(taken)
        one.order.push(taken.seq)
      },
      apply: (events) => {
        expect(events[0]!.seq).toBeGreaterThan(before)
        one.copy.apply(events)
        one.order.push(...events.map((event) => event.seq))
      },
    })
    again.start()
    open.push(again)
    await until(() => one.copy.seq === lead.seq(), 5_000)
    expect(sorted(one.copy.snapshot())).toEqual(sorted(lead.state.snapshot()))
    expect(inOrder(one.order)).toBe(true)
  })

  it('goes on after Redis restarts empty: the leader writes again, followers resync by snapshot', async () => {
    await redis().restart()
    const lead = await leader(3)
    const one = await follower()
    work(lead.emit, 0, 100)
    await until(() => one.copy.seq === lead.seq(), 5_000)
    await redis().restart()
    // Written while Redis was gone or just back: these leave a gap the follower sees.
    work(lead.emit, 100, 50)
    await new Promise((resolve) => setTimeout(resolve, 600))
    work(lead.emit, 150, 50)
    await until(() => one.copy.seq === lead.seq(), 10_000)
    expect(sorted(one.copy.snapshot())).toEqual(sorted(lead.state.snapshot()))
    expect(one.resets()).toBeGreaterThanOrEqual(2)
    expect(inOrder(one.order)).toBe(true)
    // The term came back with the writes: a stale leader is still fenced after the restart.
    expect(await (await connection('probe')).get(CLUSTER_KEYS.term)).toBe('3')
  })

  it('follows a new leader’s swarm, not the old one’s, when its first entry asks for a snapshot (r)', async () => {
    await redis().restart()
    const old = await leader(6)
    const one = await follower()
    work(old.emit, 0, 60)
    await until(() => one.copy.seq === old.seq(), 5_000)
    // The successor rebuilt its swarm from the history: here, one with none of the old leader's agents.
    const successor = await leader(7)
    expect(successor.seq()).toBe(old.seq())
    successor.writer.requireSnapshot()
    work(successor.emit, 1_000, 5)
    await until(() => one.copy.seq === successor.seq() && one.resets() === 2, 5_000)
    expect(sorted(one.copy.snapshot())).toEqual(sorted(successor.state.snapshot()))
    expect(one.copy.snapshot().agents).not.toEqual(old.state.snapshot().agents)
    expect(inOrder(one.order)).toBe(true)
  })

  it('goes on with a new leader that tells its takeover as events: no snapshot, the numbering unbroken', async () => {
    await redis().restart()
    const old = await leader(10)
    const one = await follower()
    work(old.emit, 0, 40)
    await until(() => one.copy.seq === old.seq(), 5_000)
    // It held the same copy; its rebuilt swarm differs by the old leader's agents, gone, and new work.
    const next = await leader(11)
    next.state.reset(old.state.snapshot())
    for (const { id } of old.state.snapshot().agents) next.emit({ type: 'agent:removed', at: 1, agentId: id })
    work(next.emit, 2_000, 5)
    await until(() => one.copy.seq === next.seq(), 5_000, 'the new leader’s events')
    expect(one.resets()).toBe(1)
    expect(sorted(one.copy.snapshot())).toEqual(sorted(next.state.snapshot()))
    expect(inOrder(one.order)).toBe(true)
  })

  it('switches to a new leader that has written nothing yet: its claim on the stream is enough', async () => {
    await redis().restart()
    const old = await leader(8)
    const one = await follower()
    work(old.emit, 0, 30)
    await until(() => one.copy.seq === old.seq(), 5_000)
    const quiet = await leader(9)
    // Rebuilt from the history: none of the old leader's agents; it publishes its snapshot and says nothing more.
    await quiet.writer.publishSnapshot()
    await until(() => one.resets() === 2, 3_000, 'the quiet leader’s snapshot')
    expect(sorted(one.copy.snapshot())).toEqual(sorted(quiet.state.snapshot()))
  })

  it('follows a leader whose term is lower than one left in Redis (another lifetime of the cluster)', async () => {
    await redis().restart()
    const stale = await leader(40)
    work(stale.emit, 0, 30)
    await stale.writer.flush()
    const one = await follower()
    await until(() => one.copy.seq === stale.seq(), 5_000)
    // That lifetime is over (its leader gone); a database restored from a backup: the lock holder's term is 3,
    // below what Redis remembers.
    await stale.writer.stop()
    const fresh = await leader(3)
    fresh.writer.requireSnapshot()
    work(fresh.emit, 500, 20)
    await until(() => one.copy.seq === fresh.seq() && one.resets() === 2, 5_000, 'the fresh leader’s swarm')
    expect(sorted(one.copy.snapshot())).toEqual(sorted(fresh.state.snapshot()))
    expect(inOrder(one.order)).toBe(true)
  })

  it('fences a superseded leader: once a newer term claimed the stream, the old one writes nothing more', async () => {
    await redis().restart()
    const old = await leader(4)
    work(old.emit, 0, 10)
    await old.writer.flush()
    const successor = await leader(5)
    expect(successor.seq()).toBe(old.seq())
    work(old.emit, 10, 10)
    await old.writer.flush()
    expect(old.fenced).toEqual([expect.stringContaining('newer leader')])
    const probe = await connection('probe')
    expect(await probe.xLen(CLUSTER_KEYS.events)).toBe(10)
    // And the successor goes on from where the old one was fenced.
    work(successor.emit, 100, 5)
    await successor.writer.flush()
    expect(await probe.xLen(CLUSTER_KEYS.events)).toBe(15)
    // A claim (only ever by the holder of the leader lock, its term the newest in PostgreSQL) overrides a
    // higher term left in Redis from another lifetime of the cluster.
    const next = await leader(2)
    expect(next.seq()).toBe(successor.seq())
    expect(await probe.get(CLUSTER_KEYS.term)).toBe('2')
  })
})
