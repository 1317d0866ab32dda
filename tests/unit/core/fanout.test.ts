/**
 * The fanout through its port (pipeline/viewers.ts), without Socket.IO: rooms
 * and connections kept in memory the way Socket.IO's in-memory adapter keeps
 * them, and each viewer's backlog set by the test. Time is faked. The same
 * rules end to end, over real sockets: tests/security/slow-viewers.test.ts
 * and tests/integration/pipeline.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DomainEvent } from '../../../src/shared/events'
import type { Snapshot, ViewerEncoding } from '../../../src/shared/protocol'
import { Fanout, type DropReason } from '../../../src/main/core/pipeline/fanout'
import { subscription } from '../../../src/main/core/pipeline/subscription'
import type { FanoutLimits, ViewerConnection, ViewerRooms } from '../../../src/main/core/pipeline/viewers'
import { snapshot as emptySnapshot } from '../../helpers/factories'

type Received = { kind: 'events'; seqs: number[] } | { kind: 'snapshot'; seq: number }

/** Rooms in memory; every message to a room is one encoding, counted in `messages`. */
class FakeRooms implements ViewerRooms {
  readonly members = new Map<string, Set<FakeViewer>>()
  readonly messages: { room: string; kind: Received['kind']; encoding: ViewerEncoding }[] = []

  sendEvents(room: string, except: string, events: DomainEvent[], encoding: ViewerEncoding): void {
    this.messages.push({ room, kind: 'events', encoding })
    for (const viewer of this.members.get(room) ?? []) {
      if (viewer.encoding !== encoding) throw new Error(`a ${viewer.encoding} viewer in a ${encoding} room`)
    }
    const skip = this.members.get(except) ?? new Set()
    for (const viewer of this.members.get(room) ?? []) {
      if (!skip.has(viewer)) viewer.received.push({ kind: 'events', seqs: events.map((event) => event.seq) })
    }
  }

  sendSnapshot(room: string, snapshot: Snapshot, encoding: ViewerEncoding): void {
    this.messages.push({ room, kind: 'snapshot', encoding })
    for (const viewer of this.members.get(room) ?? []) {
      if (viewer.encoding !== encoding) throw new Error(`a ${viewer.encoding} viewer in a ${encoding} room`)
    }
    for (const viewer of this.members.get(room) ?? []) viewer.received.push({ kind: 'snapshot', seq: snapshot.seq })
  }
}

class FakeViewer implements ViewerConnection {
  readonly address = '203.0.113.7'
  /** Bytes waiting for it: what the test says. */
  queued = 0
  dropped = false
  readonly received: Received[] = []

  constructor(
    readonly id: string,
    private readonly rooms: FakeRooms,
    readonly encoding: ViewerEncoding = 'json',
  ) {}

  send(events: DomainEvent[]): void {
    this.received.push({ kind: 'events', seqs: events.map((event) => event.seq) })
  }
  join(room: string): void {
    const members = this.rooms.members.get(room) ?? new Set()
    members.add(this)
    this.rooms.members.set(room, members)
  }
  leave(room: string): void {
    const members = this.rooms.members.get(room)
    members?.delete(this)
    if (members?.size === 0) this.rooms.members.delete(room)
  }
  queuedBytes(): number {
    return this.queued
  }
  drop(): void {
    this.dropped = true
    for (const room of [...this.rooms.members.keys()]) this.leave(room)
  }

  /** The seqs of the event batches it received, in order; a snapshot shows as `S<seq>`. */
  get seen(): (number | string)[] {
    return this.received.flatMap((item): (number | string)[] =>
      item.kind === 'snapshot' ? [`S${item.seq}`] : item.seqs,
    )
  }
}

const LIMITS: FanoutLimits = {
  viewerQueueBytes: 1000,
  viewersQueueBytes: 1_000_000,
  viewerStallMs: 1000,
  viewerHoldMs: 5000,
  resyncBurst: 2,
  resyncEveryMs: 1000,
}
/** The fanout's low-water mark for these limits (an eighth of the budget): at or below it a viewer has drained. */
const DRAINED = 125
/** Above four budgets a viewer is behind at once. */
const FAR_BEHIND = 5000

let seq = 0
const logLine = (): DomainEvent => ({
  seq: ++seq,
  type: 'task:log',
  at: 0,
  taskId: 't1',
  agentId: null,
  level: 'info',
  message: 'hello',
})
const taskChange = (): DomainEvent => ({
  seq: ++seq,
  type: 'task:status',
  at: 0,
  taskId: 't1',
  status: 'running',
  agentId: 'a1',
  attempts: 1,
})

let rooms: FakeRooms
let fanout: Fanout
let snapshots: number
let buffered: number
let dropped: [string, DropReason, number][]
let resynced: number[]
let delivered: number

function viewer(id: string, encoding: ViewerEncoding = 'json'): FakeViewer {
  return new FakeViewer(id, rooms, encoding)
}
/** Lets the snapshots scheduled for this turn go (Fanout sends them on setImmediate). */
function settle(): void {
  vi.advanceTimersByTime(1)
}

beforeEach(() => {
  vi.useFakeTimers()
  seq = 0
  snapshots = 0
  buffered = 0
  dropped = []
  resynced = []
  delivered = 0
  rooms = new FakeRooms()
  fanout = new Fanout(rooms, {
    limits: LIMITS,
    snapshot: () => {
      snapshots++
      return emptySnapshot(seq)
    },
    delivered: (count) => (delivered += count),
    resynced: (count) => resynced.push(count),
    dropped: (connection, reason, queued) => dropped.push([connection.id, reason, queued]),
    now: () => Date.now(),
    bufferedBytes: () => buffered,
  })
})

afterEach(() => {
  fanout.stop()
  vi.useRealTimers()
})

describe('Fanout: delivery', () => {
  it('gives viewers that connect at the same moment one snapshot, then every batch in one message', () => {
    const a = viewer('a')
    const b = viewer('b')
    fanout.add(a, null)
    fanout.add(b, null)
    // Before their snapshot, batches are not theirs: the snapshot will cover them.
    fanout.send([logLine()])
    expect(a.seen).toEqual([])
    settle()
    expect(snapshots).toBe(1)
    expect(rooms.messages.filter((message) => message.kind === 'snapshot')).toHaveLength(1)
    expect(a.seen).toEqual(['S1'])
    expect(b.seen).toEqual(['S1'])

    fanout.send([logLine(), taskChange()])
    expect(a.seen).toEqual(['S1', 2, 3])
    expect(b.seen).toEqual(['S1', 2, 3])
    expect(rooms.messages.filter((message) => message.kind === 'events')).toHaveLength(1)
    expect(delivered).toBe(4)
  })

  it('sends a resuming viewer what it missed at once, and no snapshot', () => {
    const a = viewer('a')
    const missed = [logLine(), logLine()]
    fanout.add(a, missed)
    fanout.send([logLine()])
    settle()
    expect(a.seen).toEqual([1, 2, 3])
    expect(snapshots).toBe(0)
  })

  it('filters each batch per subscription: one message per distinct subscription, none when nothing matches', () => {
    const all = viewer('all')
    const tasksOnly = [viewer('t1'), viewer('t2')]
    for (const v of [all, ...tasksOnly]) fanout.add(v, [])
    for (const v of tasksOnly) fanout.subscribe(v, subscription(['tasks']), false)

    fanout.send([logLine(), taskChange()])
    expect(all.seen).toEqual([1, 2])
    for (const v of tasksOnly) expect(v.seen).toEqual([2])
    expect(rooms.messages).toHaveLength(2)

    fanout.send([logLine()])
    expect(rooms.messages).toHaveLength(3)
    for (const v of tasksOnly) expect(v.seen).toEqual([2])
  })

  it('keeps encodings apart: one message per subscription and encoding, one snapshot per round and encoding', () => {
    const plain = [viewer('p1'), viewer('p2')]
    const deflate = [viewer('d1', 'deflate-raw'), viewer('d2', 'deflate-raw'), viewer('d3', 'deflate-raw')]
    for (const v of [...plain, ...deflate]) fanout.add(v, null)
    settle()
    expect(snapshots).toBe(1)
    expect(rooms.messages.map(({ kind, encoding }) => `${kind} ${encoding}`)).toEqual([
      'snapshot json',
      'snapshot deflate-raw',
    ])
    fanout.send([logLine(), taskChange()])
    expect(rooms.messages.slice(2).map(({ kind, encoding }) => `${kind} ${encoding}`)).toEqual([
      'events json',
      'events deflate-raw',
    ])
    for (const v of [...plain, ...deflate]) expect(v.seen).toEqual(['S0', 1, 2])
    // A narrower subscription is a room of its own, in its encoding.
    fanout.subscribe(deflate[0]!, subscription(['tasks']), false)
    fanout.send([logLine(), taskChange()])
    expect(rooms.messages.slice(4).map(({ kind, encoding }) => `${kind} ${encoding}`)).toEqual([
      'events json',
      'events deflate-raw',
      'events deflate-raw',
    ])
    expect(deflate[0]!.seen).toEqual(['S0', 1, 2, 4])
    expect(deflate[1]!.seen).toEqual(['S0', 1, 2, 3, 4])
  })

  it('sends nothing more to a viewer once it is removed, and forgets its room', () => {
    const a = viewer('a')
    fanout.add(a, [])
    fanout.subscribe(a, subscription(['logs']), false)
    fanout.remove(a)
    fanout.send([logLine()])
    expect(a.seen).toEqual([])
    expect(rooms.messages).toHaveLength(0)
    expect(fanout.lag().connected).toBe(0)
  })
})

describe('Fanout: resyncing everyone', () => {
  it('sends every viewer a snapshot at once, allowance or not, and batches again only after it', () => {
    const a = viewer('a')
    const b = viewer('b')
    fanout.add(a, null)
    fanout.add(b, [])
    settle()
    // Spend a's allowance: a resync for falling behind would now wait; this one does not.
    for (let i = 0; i < LIMITS.resyncBurst + 1; i++) fanout.ration(a)
    fanout.resyncAll()
    // Between the order and the snapshot, batches would apply to state the viewers must drop.
    fanout.send([logLine()])
    expect(a.seen).toEqual(['S0'])
    expect(b.seen).toEqual([])
    settle()
    expect(a.seen).toEqual(['S0', 'S1'])
    expect(b.seen).toEqual(['S1'])
    fanout.send([logLine()])
    expect(a.seen).toEqual(['S0', 'S1', 2])
    expect(b.seen).toEqual(['S1', 2])
  })
})

describe('Fanout: a viewer that falls behind', () => {
  it('is held back while the others get every batch, then resynced by one snapshot once it has drained', () => {
    const slow = viewer('slow')
    const fast = viewer('fast')
    fanout.add(slow, [])
    fanout.add(fast, [])
    slow.queued = FAR_BEHIND
    fanout.send([logLine()])
    fanout.send([logLine()])
    expect(slow.seen).toEqual([])
    expect(fast.seen).toEqual([1, 2])
    expect(fanout.lag()).toEqual({ connected: 2, lagging: 1, maxQueuedBytes: FAR_BEHIND })

    // Still behind at the next sweep: no snapshot yet.
    vi.advanceTimersByTime(250)
    expect(slow.seen).toEqual([])
    slow.queued = DRAINED
    vi.advanceTimersByTime(250)
    expect(slow.seen).toEqual(['S2'])
    expect(fast.seen).toEqual([1, 2])
    expect(resynced).toEqual([1])

    fanout.send([logLine()])
    expect(slow.seen).toEqual(['S2', 3])
    expect(fanout.lag().lagging).toBe(0)
  })

  it('is not held back for a moment over its budget, only when it stays over it for 100 ms', () => {
    const a = viewer('a')
    fanout.add(a, [])
    a.queued = 1500
    fanout.send([logLine()])
    vi.advanceTimersByTime(60)
    fanout.send([logLine()])
    expect(a.seen).toEqual([1, 2])
    vi.advanceTimersByTime(60)
    fanout.send([logLine()])
    expect(a.seen).toEqual([1, 2])
    expect(fanout.lag().lagging).toBe(1)
  })

  it('is disconnected when its backlog does not shrink for viewerStallMs', () => {
    const a = viewer('a')
    const b = viewer('b')
    fanout.add(a, [])
    fanout.add(b, [])
    a.queued = FAR_BEHIND
    fanout.send([logLine()])
    vi.advanceTimersByTime(LIMITS.viewerStallMs - 250)
    expect(a.dropped).toBe(false)
    vi.advanceTimersByTime(250)
    expect(a.dropped).toBe(true)
    expect(dropped).toEqual([['a', 'stalled', FAR_BEHIND]])
    expect(fanout.lag().connected).toBe(1)
    fanout.send([logLine()])
    expect(b.seen).toEqual([1, 2])
  })

  it('is disconnected when its backlog shrinks but has not drained within viewerHoldMs', () => {
    const a = viewer('a')
    fanout.add(a, [])
    a.queued = FAR_BEHIND
    fanout.send([logLine()])
    for (let elapsed = 0; elapsed < LIMITS.viewerHoldMs - 250; elapsed += 250) {
      a.queued -= 50
      vi.advanceTimersByTime(250)
    }
    expect(a.dropped).toBe(false)
    a.queued -= 50
    vi.advanceTimersByTime(250)
    expect(dropped).toEqual([['a', 'overdue', FAR_BEHIND - 50 * (LIMITS.viewerHoldMs / 250)]])
  })
})

describe('Fanout: the memory bound', () => {
  it('disconnects every held-back viewer when the buffers hold too much, furthest behind first', () => {
    const [a, b, c] = [viewer('a'), viewer('b'), viewer('c')]
    for (const v of [a, b, c]) fanout.add(v, [])
    a.queued = FAR_BEHIND
    b.queued = 2 * FAR_BEHIND
    fanout.send([logLine()])
    buffered = LIMITS.viewersQueueBytes + 1
    vi.advanceTimersByTime(250)
    expect(dropped).toEqual([
      ['b', 'memory', 2 * FAR_BEHIND],
      ['a', 'memory', FAR_BEHIND],
    ])
    expect(c.dropped).toBe(false)
  })

  it('disconnects the one furthest behind when none is held back', () => {
    const [a, b] = [viewer('a'), viewer('b')]
    fanout.add(a, [])
    fanout.add(b, [])
    a.queued = 900
    b.queued = 300
    buffered = LIMITS.viewersQueueBytes + 1
    vi.advanceTimersByTime(250)
    expect(dropped).toEqual([['a', 'memory', 900]])
    expect(b.dropped).toBe(false)
  })
})

describe('Fanout: rationing snapshots and replays', () => {
  it('allows resyncBurst at once, then one per resyncEveryMs', () => {
    const a = viewer('a')
    fanout.add(a, [])
    expect(fanout.ration(a)).toBe(0)
    expect(fanout.ration(a)).toBe(0)
    expect(fanout.ration(a)).toBe(1000)
    vi.advanceTimersByTime(400)
    expect(fanout.ration(a)).toBe(600)
    vi.advanceTimersByTime(600)
    expect(fanout.ration(a)).toBe(0)
  })

  it('holds a viewer that keeps widening its subscription back until its allowance lets its snapshot go', () => {
    const a = viewer('a')
    fanout.add(a, [])
    const widen = () => {
      fanout.subscribe(a, subscription(['tasks']), false)
      fanout.subscribe(a, subscription(['tasks', 'logs']), true)
      settle()
    }
    widen()
    widen()
    expect(a.seen).toEqual(['S0', 'S0'])
    widen()
    fanout.send([logLine()])
    expect(a.seen).toEqual(['S0', 'S0'])
    expect(fanout.lag().lagging).toBe(1)
    // A snapshot's worth comes back after resyncEveryMs; the next sweep (every 250 ms) sends it.
    vi.advanceTimersByTime(LIMITS.resyncEveryMs - 250)
    expect(a.seen).toEqual(['S0', 'S0'])
    vi.advanceTimersByTime(500)
    expect(a.seen).toEqual(['S0', 'S0', 'S1'])
    fanout.send([logLine()])
    expect(a.seen).toEqual(['S0', 'S0', 'S1', 2])
  })
})
