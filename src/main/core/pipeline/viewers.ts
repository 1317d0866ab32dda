/**
 * The fanout's port: what it needs of the viewers' transport, and its bounds.
 * The server adapts Socket.IO to it (server/viewer-transport.ts); the unit
 * tests use an in-memory fake (tests/unit/core/fanout.test.ts). So the
 * pipeline knows rooms and bytes, never a Socket.IO type.
 *
 * Rooms are in the port because they are what makes delivery cheap: one
 * message to a room is encoded once, however many viewers are in it. A room
 * holds viewers of one encoding (`ViewerEncoding`: plain JSON, or compressed
 * once for all of them), so the fanout keeps them apart.
 */
import type { DomainEvent } from '../../../shared/events'
import type { Snapshot, ViewerEncoding } from '../../../shared/protocol'

/** One viewer's connection. */
export interface ViewerConnection {
  readonly id: string
  /** Where it connects from, for the log line when it is dropped. */
  readonly address: string
  /** How its events and snapshots are encoded, chosen in its handshake. */
  readonly encoding: ViewerEncoding
  /** Events for this viewer alone (the ones it missed, when it resumes). */
  send(events: DomainEvent[]): void
  join(room: string): void
  leave(room: string): void
  /** Bytes waiting in this process to reach it. */
  queuedBytes(): number
  /** Disconnects it now and frees what waited for it. */
  drop(): void
}

/** Messages to every viewer in a room, each encoded once in the room's `encoding` (all its viewers have it). */
export interface ViewerRooms {
  /** To the viewers in `room` that are not also in `except`. */
  sendEvents(room: string, except: string, events: DomainEvent[], encoding: ViewerEncoding): void
  sendSnapshot(room: string, snapshot: Snapshot, encoding: ViewerEncoding): void
}

/** What may wait for viewers, and how often one may ask for a snapshot or replay (server/limits.ts has the defaults). */
export interface FanoutLimits {
  /**
   * Bytes that may wait in this process for one viewer (events, snapshots, replies). Over it the viewer is held
   * back: it gets nothing more until its backlog drains, then a fresh snapshot.
   */
  viewerQueueBytes: number
  /**
   * Bytes this process may hold in buffers (what waits for viewers lives there); over it the held-back viewers
   * are disconnected, furthest behind first.
   */
  viewersQueueBytes: number
  /** A held-back viewer whose backlog has not shrunk for this long is disconnected (it resyncs when it returns). */
  viewerStallMs: number
  /** A held-back viewer whose backlog has not drained within this long is disconnected, however slowly it reads. */
  viewerHoldMs: number
  /** Snapshots and replays one viewer may ask for at once (`sync`, a widening `subscribe`)… */
  resyncBurst: number
  /** …and then one per this many ms. */
  resyncEveryMs: number
}
