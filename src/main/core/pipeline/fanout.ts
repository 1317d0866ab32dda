/**
 * Hands batches to viewers: one filtered, encoded emit per distinct
 * subscription (a Socket.IO room), and a bounded backlog per viewer. A viewer
 * whose transport has not taken `maxOutstanding` batches is held back (it
 * gets nothing more) and, once its connection drains, is sent a fresh
 * snapshot instead of the backlog — so a slow viewer costs the others and
 * the coordinator nothing.
 */
import type { DomainEvent } from '../../../shared/events'
import type { DashboardNamespace, DashboardSocket } from '../server/dashboard.handlers'
import type { LagStats } from './pipeline-metrics'
import { EVERYTHING, matches, subscriptionKey, type Subscription } from './subscription'

export const LAGGING_ROOM = 'lagging'

interface Viewer {
  socket: DashboardSocket
  group: Group
  /** Batches sent since the transport last drained its buffer. */
  outstanding: number
  lagging: boolean
}

interface Group {
  room: string
  subscription: Subscription
  members: Set<Viewer>
}

export interface FanoutOptions {
  maxOutstanding?: number
  /** Called once a held-back viewer can take data again: send it a snapshot. */
  resync(socket: DashboardSocket): void
  delivered?(events: number): void
}

export class Fanout {
  private readonly viewers = new Map<string, Viewer>()
  private readonly groups = new Map<string, Group>()
  private readonly maxOutstanding: number

  constructor(
    private readonly namespace: DashboardNamespace,
    private readonly options: FanoutOptions,
  ) {
    this.maxOutstanding = options.maxOutstanding ?? 200
  }

  /** Starts sending to a viewer that has had its snapshot. */
  add(socket: DashboardSocket, subscription: Subscription = EVERYTHING): void {
    const viewer: Viewer = { socket, group: this.groupFor(subscription), outstanding: 0, lagging: false }
    this.viewers.set(socket.id, viewer)
    this.join(viewer, viewer.group)
    socket.conn.on('drain', () => {
      viewer.outstanding = 0
      if (viewer.lagging && this.viewers.has(socket.id)) {
        viewer.lagging = false
        this.options.resync(socket)
        void socket.leave(LAGGING_ROOM)
      }
    })
  }

  subscribe(socket: DashboardSocket, subscription: Subscription): void {
    const viewer = this.viewers.get(socket.id)
    if (!viewer) return
    this.leave(viewer)
    viewer.group = this.groupFor(subscription)
    this.join(viewer, viewer.group)
  }

  remove(socket: DashboardSocket): void {
    const viewer = this.viewers.get(socket.id)
    if (!viewer) return
    this.leave(viewer)
    this.viewers.delete(socket.id)
  }

  send(batch: readonly DomainEvent[]): void {
    for (const group of this.groups.values()) {
      const events =
        group.subscription === EVERYTHING ? batch : batch.filter((event) => matches(group.subscription, event))
      if (events.length === 0) continue
      let recipients = 0
      for (const viewer of group.members) {
        if (viewer.lagging) continue
        if (++viewer.outstanding > this.maxOutstanding) {
          viewer.lagging = true
          void viewer.socket.join(LAGGING_ROOM)
          continue
        }
        recipients++
      }
      if (recipients === 0) continue
      this.namespace
        .to(group.room)
        .except(LAGGING_ROOM)
        .emit('events', events as DomainEvent[])
      this.options.delivered?.(events.length * recipients)
    }
  }

  lag(): LagStats {
    let lagging = 0
    let maxOutstandingBatches = 0
    for (const viewer of this.viewers.values()) {
      if (viewer.lagging) lagging++
      maxOutstandingBatches = Math.max(maxOutstandingBatches, viewer.outstanding)
    }
    return { connected: this.viewers.size, lagging, maxOutstandingBatches }
  }

  private groupFor(subscription: Subscription): Group {
    const room = subscriptionKey(subscription)
    let group = this.groups.get(room)
    if (!group) {
      // Equal subscriptions share the first one's object; EVERYTHING keeps its identity for the unfiltered fast path.
      const canonical = room === subscriptionKey(EVERYTHING) ? EVERYTHING : subscription
      group = { room, subscription: canonical, members: new Set() }
      this.groups.set(room, group)
    }
    return group
  }

  private join(viewer: Viewer, group: Group): void {
    group.members.add(viewer)
    void viewer.socket.join(group.room)
  }

  private leave(viewer: Viewer): void {
    const group = viewer.group
    group.members.delete(viewer)
    void viewer.socket.leave(group.room)
    if (group.members.size === 0) this.groups.delete(group.room)
  }
}
