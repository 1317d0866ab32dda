/**
 * One dashboard viewer, as the renderer is one: a real socket.io-client on
 * /dashboard (WebSocket only) that builds the swarm state from the snapshot
 * and the event batches with the renderer's reducer (src/shared/reducer.ts),
 * and records each event's delay (arrival − `at`). With `deflate-raw` it
 * offers the compressed encoding, as the renderer does, and inflates with
 * node:zlib (synchronously: the renderer's DecompressionStream is native
 * code too, and the order of messages stays the socket's), each distinct
 * message once per process (`inflate`).
 */
import { inflateRawSync } from 'node:zlib'
import { io, type Socket } from 'socket.io-client'
import { isImmediate } from '../src/main/core/pipeline/batcher'
import { isTerminal } from '../src/shared/statuses'
import { EVENT_CHANNEL, type DomainEvent } from '../src/shared/events'
import type { DashboardClientToServer, DashboardServerToClient, Snapshot, ViewerEncoding } from '../src/shared/protocol'
import { applyEvent, applySnapshot, createSwarmState, type SwarmLimits } from '../src/shared/reducer'
import type { BenchEncoding } from './api'
import { epochNow, type Recorder } from './recorder'

export type ViewerSocket = Socket<DashboardServerToClient, DashboardClientToServer>

/**
 * More finished tasks than the server's snapshot holds (the latest 500), so
 * the comparison with it is about the server. No logs: hundreds of viewers
 * share this process, and 2 KB lines × 5,000 × each would be gigabytes.
 */
const LIMITS: Partial<SwarmLimits> = { finishedTasks: 2000, swarmLogLines: 0, logTails: 0, metricsSamples: 60 }

export class Viewer {
  readonly socket: ViewerSocket
  connected = false
  readonly state = createSwarmState(LIMITS)
  /** What the server said it sends (`welcome.encoding`). */
  encoding: ViewerEncoding = 'json'
  /** Seq ranges (from, to] a resync snapshot covered instead of events, since the recorder's reset. */
  gaps: [number, number][] = []
  private snapshots = 0

  constructor(
    url: string,
    token: string,
    private readonly recorder: Recorder,
    offer: BenchEncoding = 'json',
  ) {
    this.socket = io(`${url}/dashboard`, {
      auth: offer === 'json' ? { token } : { token, encoding: offer },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 20_000,
    })
    this.socket.on('welcome', (welcome) => (this.encoding = welcome.encoding ?? 'json'))
    this.socket.on('snapshot', (snapshot) => this.applySnapshot(snapshot))
    this.socket.on('events', (events) => this.applyEvents(events))
    this.socket.on('snapshot:deflate-raw', (data) => this.applySnapshot(inflate(data) as Snapshot))
    this.socket.on('events:deflate-raw', (data) => this.applyEvents(inflate(data) as DomainEvent[]))
    this.socket.on('disconnect', () => {
      if (this.connected) recorder.disconnects++
      this.connected = false
    })
  }

  /** Resolves once the first snapshot is in. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no snapshot in time')), timeoutMs)
      const first = () => {
        clearTimeout(timer)
        this.connected = true
        resolve()
      }
      this.socket.once('snapshot', first)
      this.socket.once('snapshot:deflate-raw', first)
      this.socket.once('connect_error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  /** Whether this connection negotiated permessage-deflate. */
  deflate(): boolean {
    const transport = this.socket.io.engine?.transport as unknown as { ws?: { extensions?: unknown } } | undefined
    const extensions = transport?.ws?.extensions
    return typeof extensions === 'string' && extensions.includes('permessage-deflate')
  }

  /** The seq of the snapshot or last event applied. */
  get lastSeq(): number {
    return this.state.seq
  }

  close(): void {
    this.connected = false
    this.socket.disconnect()
  }

  /** Null when this viewer's state equals the snapshot's, else what differs. */
  differences(snapshot: Snapshot): string | null {
    const { agents, tasks, finished, unknown } = this.state
    // The server sends an entity whole whenever a viewer may not hold it: an update for one it does not is a bug.
    if (unknown > 0) return `${unknown} updates for agents or tasks this viewer did not hold`
    if (agents.size !== snapshot.agents.length) {
      return `agents: ${agents.size} here, ${snapshot.agents.length} on the server`
    }
    for (const agent of snapshot.agents) {
      const mine = agents.get(agent.id)
      if (!mine || canonical(mine) !== canonical(agent)) return `agent ${agent.id} differs`
    }
    for (const task of snapshot.tasks) {
      const mine = tasks.get(task.id)
      if (!mine || canonical(mine) !== canonical(task)) return `task ${task.id} (${task.status}) differs or is missing`
    }
    const active = snapshot.tasks.filter((task) => !isTerminal(task.status)).length
    const mineActive = tasks.size - finished.size
    if (active !== mineActive) return `active tasks: ${mineActive} here, ${active} on the server`
    return null
  }

  /** Events of (from, to] this viewer received as events: all but those a resync skipped or not arrived yet. */
  deliveredIn(from: number, to: number): number {
    let missing = Math.max(0, to - Math.max(from, this.lastSeq))
    for (const [lo, hi] of this.gaps) missing += Math.max(0, Math.min(hi, to) - Math.max(lo, from))
    return Math.max(0, to - from - missing)
  }

  private applySnapshot(snapshot: Snapshot): void {
    if (this.snapshots++ > 0) {
      this.recorder.resyncs++
      if (snapshot.seq > this.state.seq) this.gaps.push([this.state.seq, snapshot.seq])
    }
    applySnapshot(this.state, snapshot)
  }

  private applyEvents(events: DomainEvent[]): void {
    const now = epochNow()
    const recorder = this.recorder
    recorder.messages++
    for (const event of events) {
      recorder.events++
      // One at a time, unsorted: an event out of order is the server's fault, and counted as such.
      if (!applyEvent(this.state, event)) {
        recorder.outOfOrder++
        continue
      }
      const delay = now - event.at
      recorder.all.record(delay)
      const channel = isImmediate(event) ? 'immediate' : EVENT_CHANNEL[event.type]
      if (channel === 'immediate') recorder.immediate.record(delay)
      else recorder.channels[channel].record(delay)
      recorder.firstArrival(event.seq, channel, delay)
    }
  }
}

/**
 * The viewers of one process receive the same compressed text for a batch;
 * each inflates it once per process (100 browsers would each inflate their
 * own copy on their own machine, in native code). Parsing and applying stay
 * per viewer, as with plain JSON.
 */
const inflated = new Map<string, string>()

function inflate(base64: string): unknown {
  let json = inflated.get(base64)
  if (json === undefined) {
    json = inflateRawSync(Buffer.from(base64, 'base64')).toString()
    if (inflated.size >= 64) inflated.clear()
    inflated.set(base64, json)
  }
  return JSON.parse(json)
}

/** JSON with sorted keys, so equal states compare equal whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  )
}
