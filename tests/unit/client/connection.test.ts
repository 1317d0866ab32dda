import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  FatalConnectionError,
  ResilientConnection,
  type ConnectionOptions,
} from '../../../src/shared/client/connection'
import { canTransition, type ConnectionState, type Transition } from '../../../src/shared/client/states'
import { FakeSocket } from './fake-socket'

let socket: FakeSocket
let connection: ResilientConnection
let transitions: Transition[]

function create(options: Partial<ConnectionOptions> = {}): ResilientConnection {
  socket = new FakeSocket()
  connection = new ResilientConnection({ socket, backoff: { jitter: 0 }, ...options })
  transitions = []
  connection.on('state', (t) => transitions.push(t))
  return connection
}

const states = () => transitions.map((t) => t.to)

/** Advances to the next attempt and returns the delay it took. */
function waitForAttempt(): number {
  const { nextRetryAt } = connection.status
  if (nextRetryAt === null) throw new Error('no retry scheduled')
  const delay = nextRetryAt - Date.now()
  const before = socket.connectCalls
  vi.advanceTimersByTime(delay)
  expect(socket.connectCalls).toBe(before + 1)
  return delay
}

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'))
})

afterEach(() => {
  connection?.dispose()
  vi.useRealTimers()
})

describe('ResilientConnection: the state machine', () => {
  it('connects: disconnected → connecting → connected, with the Manager’s own reconnection off', () => {
    create({ connectTimeoutMs: 7000 })
    expect(connection.status.state).toBe('disconnected')
    expect(socket.manager).toEqual({ reconnection: false, timeoutMs: 7000 })
    connection.start()
    expect(connection.status.state).toBe('connecting')
    expect(socket.connectCalls).toBe(1)
    socket.accept('polling')
    expect(connection.status).toMatchObject({ state: 'connected', transport: 'polling', attempt: 0 })
    socket.upgrade('websocket')
    expect(connection.status.transport).toBe('websocket')
    expect(states()).toEqual(['connecting', 'connected'])
    expect(connection.status.history.map((t) => `${t.from}>${t.to}`)).toEqual([
      'disconnected>connecting',
      'connecting>connected',
    ])
  })

  it('logs a normal start and stop as info, a lost link as a warning, a refusal as an error', () => {
    const lines: string[] = []
    create({ log: (level, message) => lines.push(`${level} ${message.split(':')[0]}`) })
    connection.start()
    socket.accept('polling')
    socket.drop()
    vi.advanceTimersByTime(connection.status.nextRetryAt! - Date.now())
    socket.accept('websocket')
    connection.stop()
    const transitionLines = lines.filter((line) => line.includes('→'))
    expect(transitionLines).toEqual([
      'info disconnected → connecting',
      'info connecting → connected',
      'warn connected → reconnecting',
      'info reconnecting → connected',
      'info connected → disconnected',
    ])
    create({ log: (level, message) => lines.push(`${level} ${message.split(':')[0]}`) })
    lines.length = 0
    connection.start()
    socket.refuse('unauthorized')
    expect(lines.filter((line) => line.includes('→'))).toContain('error connecting → error')
  })

  it('retries a server that is down with 1, 2, 4, 8, 16, 30, 30 s, counting attempts', () => {
    create()
    connection.start()
    socket.refuse('xhr poll error')
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 1, retryDelayMs: 1000 })
    expect(connection.status.lastError?.message).toMatch(/cannot connect: xhr poll error/)
    const delays: number[] = []
    for (let i = 0; i < 7; i++) {
      delays.push(waitForAttempt())
      expect(connection.status.nextRetryAt).toBeNull()
      socket.refuse()
      expect(connection.status.attempt).toBe(i + 2)
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000])
    expect(connection.status.failures).toBe(7)
  })

  it('goes polling after 5 failed attempts when asked, keeps retrying, and comes back to connected', () => {
    create({ pollAfterFailures: 5 })
    connection.start()
    socket.accept()
    socket.drop('transport close')
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 1, failures: 0 })
    for (let i = 1; i <= 4; i++) {
      waitForAttempt()
      socket.refuse()
      expect(connection.status.state).toBe('reconnecting')
    }
    waitForAttempt()
    socket.refuse()
    expect(connection.status).toMatchObject({ state: 'polling', transport: 'rest', failures: 5, attempt: 6 })
    waitForAttempt()
    socket.refuse()
    expect(connection.status.state).toBe('polling')
    waitForAttempt()
    socket.accept('websocket')
    expect(connection.status).toMatchObject({ state: 'connected', transport: 'websocket', attempt: 0, failures: 0 })
    expect(states()).toEqual(['connecting', 'connected', 'reconnecting', 'polling', 'connected'])
  })

  it('never reports an attempt number with another attempt’s delay, transitions included', () => {
    create({ pollAfterFailures: 2 })
    const seen: string[] = []
    connection.on('change', ({ attempt, retryDelayMs }) => {
      if (retryDelayMs !== null) seen.push(`${attempt}:${retryDelayMs}`)
    })
    connection.start()
    socket.refuse()
    for (let i = 0; i < 3; i++) {
      waitForAttempt()
      socket.refuse()
    }
    const consistent = seen.every((entry) => {
      const [attempt, delay] = entry.split(':').map(Number)
      return delay === 1000 * 2 ** (attempt! - 1)
    })
    expect(consistent, seen.join(' ')).toBe(true)
    expect(states()).toEqual(['connecting', 'reconnecting', 'polling'])
  })

  it('resets the backoff only after a connection that lasted: a flapping link keeps backing off', () => {
    create({ stableAfterMs: 10_000 })
    connection.start()
    socket.refuse()
    expect(waitForAttempt()).toBe(1000)
    socket.accept()
    vi.advanceTimersByTime(2000)
    socket.drop()
    // Up for 2 s only: the curve goes on from where it was.
    expect(connection.status.retryDelayMs).toBe(2000)
    waitForAttempt()
    socket.accept()
    vi.advanceTimersByTime(3000)
    socket.drop()
    expect(connection.status.retryDelayMs).toBe(4000)
    waitForAttempt()
    socket.accept()
    vi.advanceTimersByTime(10_000)
    socket.drop()
    // Up for 10 s: stable, so back to the first delay.
    expect(connection.status.retryDelayMs).toBe(1000)
  })

  it('keeps jittered delays within ±20 % and growing', () => {
    for (const r of [0, 0.5, 0.999]) {
      create({ backoff: { random: () => r } })
      connection.start()
      socket.refuse()
      const delays = [connection.status.retryDelayMs!]
      for (let i = 0; i < 6; i++) {
        waitForAttempt()
        socket.refuse()
        delays.push(connection.status.retryDelayMs!)
      }
      const bases = [1000, 2000, 4000, 8000, 16000, 30000, 30000]
      delays.forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(bases[i]! * 0.8)
        expect(delay).toBeLessThanOrEqual(Math.min(30000, bases[i]! * 1.2))
        if (i > 0 && bases[i]! < 30000) expect(delay).toBeGreaterThan(delays[i - 1]!)
      })
      connection.dispose()
    }
  })

  it("keeps trying when the server is full, and says why in the server's words", () => {
    create()
    connection.start()
    socket.refuse('too_many_viewers', {
      message: 'the server has 3 viewers connected, its limit (--max-viewers); try again later',
    })
    expect(connection.status.state).toBe('reconnecting')
    expect(connection.status.lastError?.message).toBe(
      'cannot connect: too_many_viewers: the server has 3 viewers connected, its limit (--max-viewers); try again later',
    )
  })

  it('stops for good on a refusal retrying cannot fix, and starts again on request', () => {
    create()
    connection.start()
    socket.refuse('unauthorized')
    expect(connection.status.state).toBe('error')
    expect(connection.status.lastError?.message).toMatch(/unauthorized/)
    vi.advanceTimersByTime(120_000)
    expect(socket.connectCalls).toBe(1)
    connection.start()
    expect(connection.status.state).toBe('connecting')
    socket.accept()
    expect(states()).toEqual(['connecting', 'error', 'connecting', 'connected'])
  })

  it('retries after the server closed the connection itself (socket.io-client would not)', () => {
    create()
    connection.start()
    socket.accept()
    socket.drop('io server disconnect')
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 1 })
    waitForAttempt()
    socket.accept()
    expect(connection.status.state).toBe('connected')
  })

  it('stop() closes on purpose: disconnected, no retries, its own disconnect not taken for a loss', () => {
    create()
    connection.start()
    socket.accept()
    const closes: string[] = []
    connection.on('close', (reason) => closes.push(reason))
    connection.stop()
    expect(connection.status.state).toBe('disconnected')
    expect(socket.connected).toBe(false)
    vi.advanceTimersByTime(60_000)
    expect(socket.connectCalls).toBe(1)
    expect(closes).toEqual(['closed'])
    expect(states()).toEqual(['connecting', 'connected', 'disconnected'])
  })

  it('fails an attempt that gets no answer within the connect timeout, and closes it', () => {
    create({ connectTimeoutMs: 5000 })
    connection.start()
    vi.advanceTimersByTime(4999)
    expect(connection.status.state).toBe('connecting')
    vi.advanceTimersByTime(1)
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 1 })
    expect(connection.status.lastError?.message).toMatch(/no connection within 5 s/)
    expect(socket.disconnectCalls).toBe(1)
  })

  it('reconnectNow() skips the wait', () => {
    create()
    connection.start()
    socket.refuse()
    waitForAttempt()
    socket.refuse()
    expect(connection.status.nextRetryAt! - Date.now()).toBe(2000)
    connection.reconnectNow('test')
    expect(socket.connectCalls).toBe(3)
    socket.accept()
    expect(connection.status.state).toBe('connected')
  })

  it('drops what socket.io-client buffered while disconnected, so nothing is replayed behind the caller’s back', () => {
    create()
    connection.start()
    socket.accept()
    socket.sendBuffer.push({ type: 2, data: ['task:submit'] })
    socket.drop()
    expect(socket.sendBuffer).toEqual([])
  })

  it('waits for the handshake before connected; a failed one is retried, a fatal one ends in error', async () => {
    let answer: (ok: boolean | 'fatal') => void = () => {}
    create({
      handshake: () =>
        new Promise<void>((resolve, reject) => {
          answer = (ok) =>
            ok === true ? resolve() : reject(ok === 'fatal' ? new FatalConnectionError('bad id') : new Error('busy'))
        }),
    })
    connection.start()
    socket.accept()
    expect(connection.status.state).toBe('connecting')
    answer(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 1 })
    expect(socket.connected).toBe(false)
    waitForAttempt()
    socket.accept()
    answer(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(connection.status.state).toBe('connected')
    socket.drop()
    waitForAttempt()
    socket.accept()
    answer('fatal')
    await vi.advanceTimersByTimeAsync(0)
    expect(connection.status.state).toBe('error')
    expect(connection.status.lastError?.message).toBe('bad id')
  })

  it('keeps a bounded history, and every transition it takes is in the table', () => {
    create({ historyLimit: 4, pollAfterFailures: 2 })
    connection.start()
    socket.refuse('unauthorized')
    connection.start()
    socket.refuse()
    for (let i = 0; i < 3; i++) {
      waitForAttempt()
      socket.refuse()
    }
    waitForAttempt()
    socket.accept()
    socket.drop()
    connection.stop()
    const all = transitions.map((t) => [t.from, t.to] as [ConnectionState, ConnectionState])
    expect(all.every(([from, to]) => canTransition(from, to))).toBe(true)
    expect(states()).toEqual([
      'connecting',
      'error',
      'connecting',
      'reconnecting',
      'polling',
      'connected',
      'reconnecting',
      'disconnected',
    ])
    expect(connection.status.history).toHaveLength(4)
    expect(connection.status.history.at(-1)?.to).toBe('disconnected')
  })
})

describe('ResilientConnection: the heartbeat', () => {
  function withPing(ping: (timeoutMs: number) => Promise<number | null>) {
    return create({ heartbeat: { intervalMs: 5000, timeoutMs: 4000, maxMissed: 2, ping } })
  }

  it('measures the round trip, averages it and judges the quality', async () => {
    let rtt = 20
    withPing(() => new Promise((resolve) => setTimeout(() => resolve(Date.now()), rtt)))
    connection.start()
    socket.accept()
    expect(connection.status.quality).toBe('unknown')
    await vi.advanceTimersByTimeAsync(20)
    expect(connection.status).toMatchObject({ rttMs: 20, averageRttMs: 20, quality: 'good' })
    rtt = 400
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(5000)
    expect(connection.status.rttMs).toBe(400)
    expect(connection.status.quality).toBe('degraded')
    rtt = 900
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(5000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(connection.status).toMatchObject({ averageRttMs: 900, quality: 'poor' })
  })

  it('declares a silent link dead within 2 × interval + timeout, closes it and reconnects', async () => {
    let silent = false
    withPing(() => (silent ? new Promise(() => {}) : Promise.resolve(Date.now())))
    connection.start()
    socket.accept()
    await vi.advanceTimersByTimeAsync(0)
    expect(connection.status.quality).toBe('good')
    // The worst moment: the link dies right after an answer.
    silent = true
    const diedAt = Date.now()
    await vi.advanceTimersByTimeAsync(9000)
    expect(connection.status).toMatchObject({ state: 'connected', missedHeartbeats: 1, quality: 'poor' })
    await vi.advanceTimersByTimeAsync(4999)
    expect(connection.status.state).toBe('connected')
    await vi.advanceTimersByTimeAsync(1)
    expect(Date.now() - diedAt).toBe(14_000)
    expect(connection.status.state).toBe('reconnecting')
    expect(connection.status.lastError?.message).toMatch(/heartbeat: 2 pings in a row unanswered/)
    expect(socket.connected).toBe(false)
    silent = false
    waitForAttempt()
    socket.accept()
    expect(connection.status).toMatchObject({ state: 'connected', missedHeartbeats: 0 })
  })

  it('one answered ping clears the misses', async () => {
    let silent = true
    withPing(() => (silent ? new Promise(() => {}) : Promise.resolve(null)))
    connection.start()
    socket.accept()
    await vi.advanceTimersByTimeAsync(4000)
    expect(connection.status.missedHeartbeats).toBe(1)
    silent = false
    await vi.advanceTimersByTimeAsync(1000)
    expect(connection.status).toMatchObject({ missedHeartbeats: 0, state: 'connected' })
    silent = true
    await vi.advanceTimersByTimeAsync(9000)
    expect(connection.status).toMatchObject({ missedHeartbeats: 1, state: 'connected' })
  })
})
