/**
 * One dashboard viewer, as the renderer is one: a real socket.io-client on
 * /dashboard (WebSocket only) that builds the swarm state from the snapshot
 * and the event batches with the renderer's reducer (src/shared/reducer.ts),
 * and records each event's delay (arrival − `at`).
 */
import { io, type Socket } from 'socket.io-client'
import { isImmediate } from '../src/main/core/pipeline/batcher'
import { isTerminal } from '../src/shared/statuses'
import { EVENT_CHANNEL, type DomainEvent } from '../src/shared/events'
import type { DashboardClientToServer, DashboardServerToClient, Snapshot } from '../src/shared/protocol'
import { applyEvent, applySnapshot, createSwarmState, type SwarmLimits } from '../src/shared/reducer'
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
  private snapshots = 0

  constructor(
    url: string,
    token: string,
    private readonly recorder: Recorder,
  ) {
    this.socket = io(`${url}/dashboard`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 20_000,
    })
    this.socket.on('snapshot', (snapshot) => this.applySnapshot(snapshot))
    this.socket.on('events', (events) => this.applyEvents(events))
    this.socket.on('disconnect', () => {
      if (this.connected) recorder.disconnects++
      this.connected = false
    })
  }

  /** Resolves once the first snapshot is in. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no snapshot in time')), timeoutMs)
      this.socket.once('snapshot', () => {
        clearTimeout(timer)
        this.connected = true
        resolve()
      })
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

  private applySnapshot(snapshot: Snapshot): void {
    if (this.snapshots++ > 0) this.recorder.resyncs++
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
      const channel = isImmediate(event) ? 'immediate' : EVENT_CHANNEL[event.type]
      if (channel === 'immediate') recorder.immediate.record(delay)
      else recorder.channels[channel].record(delay)
      recorder.firstArrival(event.seq, channel, delay)
    }
  }
}

/** JSON with sorted keys, so equal states compare equal whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  )
}
