/**
 * A stand-in for a socket.io-client Socket, driven by the test: `accept()`,
 * `refuse()`, `drop()`. It records what the client asks of it (connects,
 * disconnects, emits) so the state machine can be tested with fake timers
 * and no network.
 */
import type { LinkSocket } from '../../../src/shared/client/connection'

type Listener = (...args: never[]) => void

class FakeEngine {
  readonly transport: { name: string }
  private readonly upgrades = new Set<(transport: { name: string }) => void>()
  constructor(name: string) {
    this.transport = { name }
  }
  on(_event: 'upgrade', listener: (transport: { name: string }) => void): this {
    this.upgrades.add(listener)
    return this
  }
  upgrade(name: string): void {
    this.transport.name = name
    for (const listener of this.upgrades) listener({ name })
  }
}

export interface Emitted {
  event: string
  args: unknown[]
  ack: ((...args: unknown[]) => void) | null
  timeoutMs: number | null
}

export class FakeSocket implements LinkSocket {
  connected = false
  sendBuffer: unknown[] = []
  connectCalls = 0
  disconnectCalls = 0
  /** Whether a connect() is waiting for the test to accept or refuse it. */
  attempting = false
  readonly emitted: Emitted[] = []
  /** Answers `emitWithAck` calls by event name; unanswered when absent. */
  readonly answers = new Map<string, (...args: unknown[]) => unknown>()
  private readonly listeners = new Map<string, Set<Listener>>()
  private engine: FakeEngine | undefined
  readonly manager = { reconnection: true, timeoutMs: 20_000 }
  readonly io = {
    reconnection: (enabled: boolean) => {
      this.manager.reconnection = enabled
      return this.io
    },
    timeout: (ms: number) => {
      this.manager.timeoutMs = ms
      return this.io
    },
    get engine() {
      return undefined as FakeEngine | undefined
    },
  }

  constructor() {
    Object.defineProperty(this.io, 'engine', { get: () => this.engine })
  }

  on(event: string, listener: Listener): this {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener)
    return this
  }

  off(event?: string, listener?: Listener): this {
    if (event === undefined) this.listeners.clear()
    else if (listener === undefined) this.listeners.delete(event)
    else this.listeners.get(event)?.delete(listener)
    return this
  }

  connect(): this {
    this.connectCalls++
    this.attempting = true
    return this
  }

  disconnect(): this {
    this.disconnectCalls++
    this.attempting = false
    if (this.connected) {
      this.connected = false
      this.fire('disconnect', 'io client disconnect')
    }
    return this
  }

  timeout(ms: number) {
    return {
      emitWithAck: (event: string, ...args: unknown[]) => this.emitWithAck(event, args, ms),
    }
  }

  emitWithAck(event: string, args: unknown[], timeoutMs: number | null = null): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const entry: Emitted = { event, args, ack: resolve, timeoutMs }
      this.emitted.push(entry)
      if (!this.connected) return reject(new Error('not connected'))
      const answer = this.answers.get(event)
      if (answer) {
        const value = answer(...args)
        if (value instanceof Promise) value.then(resolve, reject)
        else resolve(value)
      }
    })
  }

  // ── driven by the test ──

  accept(transport = 'websocket'): void {
    if (!this.attempting) throw new Error('accept() without a connect()')
    this.attempting = false
    this.engine = new FakeEngine(transport)
    this.connected = true
    this.fire('connect')
  }

  /** A refused connection; `data` is what a Socket.IO middleware attaches to its error (`error.data`). */
  refuse(message = 'xhr poll error', data?: unknown): void {
    if (!this.attempting) throw new Error('refuse() without a connect()')
    this.attempting = false
    this.fire('connect_error', Object.assign(new Error(message), data === undefined ? {} : { data }))
  }

  drop(reason = 'transport close'): void {
    this.connected = false
    this.fire('disconnect', reason)
  }

  upgrade(name: string): void {
    this.engine?.upgrade(name)
  }

  fire(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as (...a: unknown[]) => void)(...args)
  }
}
