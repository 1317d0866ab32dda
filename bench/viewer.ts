/**
 * One dashboard viewer, as the renderer is one: a real socket.io-client on
 * /dashboard (WebSocket only) that builds the swarm state from the snapshot
 * and the event batches, and records each event's delay (arrival − `at`).
 */
import { io, type Socket } from 'socket.io-client'
import { isImmediate } from '../src/main/core/pipeline/batcher'
import { isTerminal, type Agent, type Task } from '../src/shared/domain'
import { EVENT_CHANNEL, type DomainEvent } from '../src/shared/events'
import type { DashboardClientToServer, DashboardServerToClient, Snapshot } from '../src/shared/protocol'
import { epochNow, type Recorder } from './recorder'

export type ViewerSocket = Socket<DashboardServerToClient, DashboardClientToServer>

/** Finished tasks a viewer keeps (the server's snapshot holds the latest 500). */
const FINISHED_KEPT = 2000

export class Viewer {
  readonly socket: ViewerSocket
  lastSeq = -1
  connected = false
  readonly agents = new Map<string, Agent>()
  readonly tasks = new Map<string, Task>()
  private readonly finished = new Map<string, true>()
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

  close(): void {
    this.connected = false
    this.socket.disconnect()
  }

  /** Null when this viewer's state equals the snapshot's, else what differs. */
  differences(snapshot: Snapshot): string | null {
    if (this.agents.size !== snapshot.agents.length) {
      return `agents: ${this.agents.size} here, ${snapshot.agents.length} on the server`
    }
    for (const agent of snapshot.agents) {
      const mine = this.agents.get(agent.id)
      if (!mine || canonical(mine) !== canonical(agent)) return `agent ${agent.id} differs`
    }
    for (const task of snapshot.tasks) {
      const mine = this.tasks.get(task.id)
      if (!mine || canonical(mine) !== canonical(task)) return `task ${task.id} (${task.status}) differs or is missing`
    }
    const active = snapshot.tasks.filter((task) => !isTerminal(task.status)).length
    const mineActive = this.tasks.size - this.finished.size
    if (active !== mineActive) return `active tasks: ${mineActive} here, ${active} on the server`
    return null
  }

  private applySnapshot(snapshot: Snapshot): void {
    if (this.snapshots++ > 0) this.recorder.resyncs++
    this.agents.clear()
    this.tasks.clear()
    this.finished.clear()
    for (const agent of snapshot.agents) this.agents.set(agent.id, agent)
    for (const task of snapshot.tasks) this.putTask(task)
    this.lastSeq = snapshot.seq
  }

  private applyEvents(events: DomainEvent[]): void {
    const now = epochNow()
    const recorder = this.recorder
    recorder.messages++
    for (const event of events) {
      recorder.events++
      if (event.seq <= this.lastSeq) {
        recorder.outOfOrder++
        continue
      }
      this.lastSeq = event.seq
      const delay = now - event.at
      const channel = isImmediate(event) ? 'immediate' : EVENT_CHANNEL[event.type]
      if (channel === 'immediate') recorder.immediate.record(delay)
      else recorder.channels[channel].record(delay)
      recorder.firstArrival(event.seq, channel, delay)
      switch (event.type) {
        case 'agent:status':
          this.agents.set(event.agent.id, event.agent)
          break
        case 'agent:removed':
          this.agents.delete(event.agentId)
          break
        case 'task:status':
          this.putTask(event.task)
          break
        default:
          break
      }
    }
  }

  private putTask(task: Task): void {
    this.tasks.set(task.id, task)
    this.finished.delete(task.id)
    if (!isTerminal(task.status)) return
    this.finished.set(task.id, true)
    if (this.finished.size > FINISHED_KEPT) {
      const oldest = this.finished.keys().next().value as string
      this.finished.delete(oldest)
      this.tasks.delete(oldest)
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
