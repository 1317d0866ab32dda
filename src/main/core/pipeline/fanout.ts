/**
 * Hands events to viewers and keeps what waits for each of them bounded.
 *
 * Delivery: one filtered, encoded emit per distinct subscription and
 * encoding (a room) per batch — so a batch is compressed once for all the
 * viewers that asked for `deflate-raw`. Snapshots go out through a room too,
 * so the viewers that need one at the same moment (a connect storm, a wave
 * of resyncs) share one snapshot, encoded once per encoding. The viewers are reached through a port
 * (viewers.ts), which the server implements with Socket.IO.
 *
 * Bounds (`FanoutLimits`, viewers.ts; docs/security.md): a viewer with more
 * than `viewerQueueBytes` waiting in this process is held back — it gets
 * nothing more — and once its backlog has drained it is sent a fresh
 * snapshot instead of what it missed. Held back, it is disconnected when its
 * backlog has not shrunk for `viewerStallMs` or not drained within
 * `viewerHoldMs`; and when all viewers together hold more than
 * `viewersQueueBytes`, those furthest behind go first. Snapshots and replays
 * after the first are rationed per viewer (`Allowance`). So a slow or hostile
 * viewer costs the coordinator and the other viewers nothing, and memory
 * stays bounded however many stop reading.
 */
import type { DomainEvent } from '../../../shared/events'
import type { Snapshot, ViewerEncoding } from '../../../shared/protocol'
import { Allowance } from './allowance'
import type { LagStats } from './pipeline-metrics'
import { EVERYTHING, matches, subscriptionKey, type Subscription } from './subscription'
import type { FanoutLimits, ViewerConnection, ViewerRooms } from './viewers'

export const LAGGING_ROOM = 'lagging'
const SWEEP_MS = 250
/** How long a viewer's backlog may stay over its budget before it counts as behind (`overBudget`). */
const OVER_BUDGET_MS = 100

/** Why a viewer was disconnected for its backlog. */
export type DropReason = 'stalled' | 'overdue' | 'memory'

interface Viewer {
  connection: ViewerConnection
  group: Group
  /** In its group's room, receiving batches: false until its first snapshot (or replay) is out. */
  live: boolean
  /** Held back (in the lagging room) since this time, or null. */
  heldSince: number | null
  /** Its backlog at the last sweep, and when the backlog last shrank: the stall rule. */
  lastQueued: number
  progressAt: number
  /** Since when its backlog has been over budget at every batch, or null. */
  overSince: number | null
  allowance: Allowance
}

interface Group {
  room: string
  subscription: Subscription
  encoding: ViewerEncoding
  members: Set<Viewer>
}

export interface FanoutOptions {
  limits: FanoutLimits
  /** The whole state at the current seq, once everything before it has gone out (the batcher flushed). */
  snapshot(): Snapshot
  delivered?(events: number): void
  /** A snapshot went to `count` viewers that had been held back or had widened their subscription. */
  resynced?(count: number): void
  /** A viewer was disconnected for its backlog (`queued` bytes waiting for it). */
  dropped?(connection: ViewerConnection, reason: DropReason, queued: number): void
  now?: () => number
  /**
   * Bytes this process holds in buffers (default: `process.memoryUsage().arrayBuffers`). What waits for viewers
   * lives there; per-viewer figures cannot be summed for it, since a broadcast's frame is one buffer shared by all.
   */
  bufferedBytes?: () => number
}

export class Fanout {
  private readonly viewers = new Map<string, Viewer>()
  private readonly groups = new Map<string, Group>()
  /** Viewers waiting for a snapshot: new ones, held-back ones, ones that widened their subscription. */
  private readonly owed = new Set<Viewer>()
  private readonly limits: FanoutLimits
  private readonly lowWater: number
  private readonly now: () => number
  private readonly sweeper: NodeJS.Timeout
  private snapshotsScheduled = false
  private round = 0

  constructor(
    private readonly rooms: ViewerRooms,
    private readonly options: FanoutOptions,
  ) {
    this.limits = options.limits
    // A held-back viewer is given its snapshot once this little is left: it is reading again.
    this.lowWater = Math.floor(this.limits.viewerQueueBytes / 8)
    this.now = options.now ?? Date.now
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS)
    this.sweeper.unref()
  }

  /**
   * A new viewer. `replay`: the events it missed, when it resumes from a seq
   * still in the buffer (sent now, then it is live); null: it is owed a
   * snapshot, sent with the others due at this moment.
   */
  add(connection: ViewerConnection, replay: DomainEvent[] | null): void {
    const now = this.now()
    const viewer: Viewer = {
      connection,
      group: this.groupFor(EVERYTHING, connection.encoding),
      live: false,
      heldSince: null,
      lastQueued: 0,
      progressAt: now,
      overSince: null,
      allowance: new Allowance(this.limits.resyncBurst, this.limits.resyncEveryMs, this.now),
    }
    viewer.group.members.add(viewer)
    this.viewers.set(connection.id, viewer)
    if (replay === null) return this.owe(viewer)
    if (replay.length > 0) connection.send(replay)
    this.goLive(viewer)
  }

  /** A new subscription; `widened`: the viewer may hold stale state for what it adds, so it is owed a snapshot. */
  subscribe(connection: ViewerConnection, subscription: Subscription, widened: boolean): void {
    const viewer = this.viewers.get(connection.id)
    if (!viewer) return
    this.leaveGroup(viewer)
    viewer.group = this.groupFor(subscription, connection.encoding)
    viewer.group.members.add(viewer)
    if (viewer.live) connection.join(viewer.group.room)
    if (widened && viewer.live) this.owe(viewer)
  }

  remove(connection: ViewerConnection): void {
    const viewer = this.viewers.get(connection.id)
    if (!viewer) return
    this.viewers.delete(connection.id)
    this.owed.delete(viewer)
    this.leaveGroup(viewer)
  }

  /**
   * Every viewer is sent a snapshot, as if it had just connected, whatever its allowance: what they hold may not
   * lead to the next events (the cluster's epoch changed, a follower's copy of the swarm was reset).
   */
  resyncAll(): void {
    for (const viewer of this.viewers.values()) {
      if (viewer.live) viewer.connection.leave(viewer.group.room)
      viewer.live = false
      viewer.heldSince = null
      viewer.overSince = null
      viewer.connection.leave(LAGGING_ROOM)
      this.owe(viewer)
    }
  }

  /** Spends one of a viewer's snapshots or replays: 0 when it had one, else the ms until it has. */
  ration(connection: ViewerConnection): number {
    return this.viewers.get(connection.id)?.allowance.take() ?? 0
  }

  send(batch: readonly DomainEvent[]): void {
    for (const group of this.groups.values()) {
      const events =
        group.subscription === EVERYTHING ? batch : batch.filter((event) => matches(group.subscription, event))
      if (events.length === 0) continue
      let recipients = 0
      for (const viewer of group.members) {
        if (!viewer.live || viewer.heldSince !== null) continue
        if (this.overBudget(viewer)) {
          this.owe(viewer)
          continue
        }
        recipients++
      }
      if (recipients === 0) continue
      this.rooms.sendEvents(group.room, LAGGING_ROOM, events as DomainEvent[], group.encoding)
      this.options.delivered?.(events.length * recipients)
    }
  }

  /**
   * Whether a viewer is behind: its backlog has been over budget at every
   * batch for `OVER_BUDGET_MS`, or is far over it now. Batches sent in a
   * burst sit in user space until the next I/O phase writes them to the
   * kernel, even for a viewer that reads everything: a moment over budget
   * does not make it slow, a backlog that lasts does. The fourfold bound caps
   * what a burst can queue.
   */
  private overBudget(viewer: Viewer): boolean {
    const queued = viewer.connection.queuedBytes()
    const budget = this.limits.viewerQueueBytes
    if (queued > 4 * budget) return true
    if (queued <= budget) {
      viewer.overSince = null
      return false
    }
    const now = this.now()
    viewer.overSince ??= now
    return now - viewer.overSince >= OVER_BUDGET_MS
  }

  /** Viewers connected now (cheaper than `lag()`, which looks at each). */
  get connected(): number {
    return this.viewers.size
  }

  lag(): LagStats {
    let lagging = 0
    let maxQueuedBytes = 0
    for (const viewer of this.viewers.values()) {
      if (viewer.heldSince !== null) lagging++
      maxQueuedBytes = Math.max(maxQueuedBytes, viewer.connection.queuedBytes())
    }
    return { connected: this.viewers.size, lagging, maxQueuedBytes }
  }

  stop(): void {
    clearInterval(this.sweeper)
  }

  /** Holds a live viewer back (nothing more until its snapshot) and marks the snapshot due. */
  private owe(viewer: Viewer): void {
    this.owed.add(viewer)
    if (viewer.live && viewer.heldSince === null) {
      viewer.heldSince = this.now()
      viewer.progressAt = viewer.heldSince
      viewer.lastQueued = viewer.connection.queuedBytes()
      viewer.connection.join(LAGGING_ROOM)
    }
    if (!this.snapshotsScheduled) {
      this.snapshotsScheduled = true
      setImmediate(() => {
        this.snapshotsScheduled = false
        this.deliverSnapshots()
      })
    }
  }

  /**
   * Sends one snapshot to every owed viewer that may have it now: a new one
   * always; one held back once its backlog has drained and its allowance
   * lets it. The others wait for a later sweep.
   */
  private deliverSnapshots(): void {
    const ready: Viewer[] = []
    for (const viewer of this.owed) {
      if (!viewer.live) ready.push(viewer)
      else if (viewer.connection.queuedBytes() <= this.lowWater && viewer.allowance.take() === 0) ready.push(viewer)
    }
    if (ready.length === 0) return
    // Flushes the batcher first: its last batch goes to the live viewers, and the snapshot covers it for these.
    const snapshot = this.options.snapshot()
    const round = ++this.round
    const rooms = new Map<ViewerEncoding, string>()
    for (const viewer of ready) {
      const { encoding } = viewer.connection
      const room = rooms.get(encoding) ?? `snapshot:${round}:${encoding}`
      rooms.set(encoding, room)
      viewer.connection.join(room)
    }
    for (const [encoding, room] of rooms) this.rooms.sendSnapshot(room, snapshot, encoding)
    let resynced = 0
    for (const viewer of ready) {
      viewer.connection.leave(rooms.get(viewer.connection.encoding)!)
      this.owed.delete(viewer)
      if (!viewer.live) {
        this.goLive(viewer)
        continue
      }
      resynced++
      viewer.heldSince = null
      viewer.overSince = null
      viewer.connection.leave(LAGGING_ROOM)
    }
    if (resynced > 0) this.options.resynced?.(resynced)
  }

  /**
   * Held-back viewers: snapshots for those that drained, disconnection for
   * those that do not. Then memory: when this process's buffers hold more
   * than `viewersQueueBytes`, every held-back viewer goes, furthest behind
   * first (or, when none is held back, the one furthest behind).
   */
  private sweep(): void {
    const now = this.now()
    const behind: [Viewer, number][] = []
    for (const viewer of this.viewers.values()) {
      if (viewer.heldSince === null) continue
      const queued = viewer.connection.queuedBytes()
      if (queued < viewer.lastQueued) viewer.progressAt = now
      viewer.lastQueued = queued
      // Drained: it only waits for its snapshot.
      if (queued <= this.lowWater) continue
      if (now - viewer.progressAt >= this.limits.viewerStallMs) this.drop(viewer, 'stalled', queued)
      else if (now - viewer.heldSince >= this.limits.viewerHoldMs) this.drop(viewer, 'overdue', queued)
      else behind.push([viewer, queued])
    }
    const buffered = this.options.bufferedBytes?.() ?? process.memoryUsage().arrayBuffers
    if (buffered > this.limits.viewersQueueBytes) {
      if (behind.length === 0) behind.push(...this.furthestBehind())
      behind.sort((a, b) => b[1] - a[1])
      for (const [viewer, queued] of behind) this.drop(viewer, 'memory', queued)
    }
    if (this.owed.size > 0) this.deliverSnapshots()
  }

  /** The live viewer with the most waiting for it beyond the low-water mark, if any. */
  private furthestBehind(): [Viewer, number][] {
    let worst: [Viewer, number] | null = null
    for (const viewer of this.viewers.values()) {
      const queued = viewer.connection.queuedBytes()
      if (queued > this.lowWater && (worst === null || queued > worst[1])) worst = [viewer, queued]
    }
    return worst ? [worst] : []
  }

  /** Disconnects a viewer for its backlog and frees what waited for it. */
  private drop(viewer: Viewer, reason: DropReason, queued: number): void {
    this.remove(viewer.connection)
    this.options.dropped?.(viewer.connection, reason, queued)
    viewer.connection.drop()
  }

  private goLive(viewer: Viewer): void {
    viewer.live = true
    viewer.connection.join(viewer.group.room)
  }

  private groupFor(subscription: Subscription, encoding: ViewerEncoding): Group {
    const key = subscriptionKey(subscription)
    const room = encoding === 'json' ? key : `${key}|${encoding}`
    let group = this.groups.get(room)
    if (!group) {
      // Equal subscriptions share the first one's object; EVERYTHING keeps its identity for the unfiltered fast path.
      const canonical = key === subscriptionKey(EVERYTHING) ? EVERYTHING : subscription
      group = { room, subscription: canonical, encoding, members: new Set() }
      this.groups.set(room, group)
    }
    return group
  }

  private leaveGroup(viewer: Viewer): void {
    const group = viewer.group
    group.members.delete(viewer)
    if (viewer.live) viewer.connection.leave(group.room)
    if (group.members.size === 0) this.groups.delete(group.room)
  }
}
