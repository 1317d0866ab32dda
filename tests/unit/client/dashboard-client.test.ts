import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { DashboardClient, type DashboardSocket } from '../../../src/shared/client/dashboard-client'
import type { FetchLike } from '../../../src/shared/client/snapshot-poller'
import type { DomainEvent } from '../../../src/shared/events'
import type { DashboardAuth, Snapshot } from '../../../src/shared/protocol'
import type { Inflate } from '../../../src/shared/client/inbox'
import { FakeSocket } from './fake-socket'

const snapshot = (seq: number): Snapshot => ({
  seq,
  agents: [],
  tasks: [],
  metrics: { current: null, history: [] } as unknown as Snapshot['metrics'],
  alerts: [],
  kinds: [],
  schedules: [],
})

let socket: FakeSocket
let auth: (() => DashboardAuth) | null
let authLater: (() => Promise<DashboardAuth>) | null
let fetched: string[]
let serverSeq: number
let client: DashboardClient

function create(inflate?: Inflate | null): DashboardClient {
  fetched = []
  serverSeq = 20
  const fetch: FetchLike = async (url, init) => {
    fetched.push(`${url} ${init.headers.Authorization}`)
    return { ok: true, status: 200, json: async () => snapshot(serverSeq) }
  }
  client = new DashboardClient({
    url: 'http://server',
    token: 'tok',
    fetch,
    tuning: { backoff: { jitter: 0, minMs: 1000, maxMs: 4000 }, heartbeat: { intervalMs: 60_000 } },
    ...(inflate === undefined ? {} : { inflate }),
    createSocket: (_url, options) => {
      socket = new FakeSocket()
      const given = options.auth as (callback: (auth: DashboardAuth) => void) => void
      auth = () => {
        let value: DashboardAuth | null = null
        given((a) => (value = a))
        if (value === null) throw new Error('the handshake auth is not ready yet')
        return value
      }
      authLater = () => new Promise((resolve) => given(resolve))
      return socket as unknown as DashboardSocket
    },
  })
  return client
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => {
  client.dispose()
  vi.useRealTimers()
})

async function failAttempts(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await vi.advanceTimersByTimeAsync(client.status.nextRetryAt! - Date.now())
    socket.refuse()
  }
}

describe('DashboardClient', () => {
  it('asks to resume from the last seq it handed out, on the same server process', () => {
    create()
    expect(auth!()).toEqual({ token: 'tok', encoding: 'deflate-raw' })
    client.start()
    socket.accept()
    expect(client.status.routing).toBeNull()
    const routing = { remoteShellAgents: true }
    socket.fire('welcome', {
      role: 'viewer',
      version: '1',
      serverTime: Date.now(),
      resumed: false,
      instance: 'A',
      routing,
    })
    socket.fire('snapshot', snapshot(10))
    socket.fire('events', [{ seq: 11 }, { seq: 12 }] as DomainEvent[])
    expect(auth!()).toEqual({ token: 'tok', encoding: 'deflate-raw', sinceSeq: 12, instance: 'A' })
    // The server's routing policy, for the task drawer's "what does this task wait for".
    expect(client.status).toMatchObject({ role: 'viewer', seq: 12, resumed: false, routing })
  })

  it('polls GET /api/snapshot every second after 5 failed attempts, and stops once the socket is back', async () => {
    create()
    const snapshots: number[] = []
    client.on('snapshot', (s) => snapshots.push(s.seq))
    client.start()
    socket.accept()
    socket.fire('welcome', { role: 'viewer', version: '1', serverTime: Date.now(), resumed: false, instance: 'A' })
    socket.fire('snapshot', snapshot(10))
    socket.drop()
    await failAttempts(4)
    expect(client.status.state).toBe('reconnecting')
    expect(fetched).toEqual([])
    await failAttempts(1)
    expect(client.status).toMatchObject({ state: 'polling', transport: 'rest' })
    await vi.advanceTimersByTimeAsync(0)
    expect(fetched).toEqual(['http://server/api/snapshot Bearer tok'])
    expect(snapshots).toEqual([10, 20])
    // The first answer brings the next socket attempt forward.
    expect(socket.attempting).toBe(true)
    socket.refuse()
    serverSeq = 21
    await vi.advanceTimersByTimeAsync(1000)
    expect(fetched).toHaveLength(2)
    expect(snapshots.at(-1)).toBe(21)
    expect(auth!()).toEqual({ token: 'tok', encoding: 'deflate-raw', sinceSeq: 21, instance: 'A' })
    await vi.advanceTimersByTimeAsync(client.status.nextRetryAt! - Date.now())
    socket.accept()
    expect(client.status.state).toBe('connected')
    const polls = fetched.length
    await vi.advanceTimersByTimeAsync(5000)
    expect(fetched).toHaveLength(polls)
  })

  it('queues commands while down and sends them once the link is up', async () => {
    create()
    client.start()
    socket.refuse()
    const result = client.command('agent:pause', { agentId: 'a1' })
    expect(client.status.queuedCommands).toBe(1)
    socket.answers.set('agent:pause', () => ({ ok: true, data: { id: 'a1' } }))
    await vi.advanceTimersByTimeAsync(client.status.nextRetryAt! - Date.now())
    socket.accept()
    expect(await result).toEqual({ ok: true, data: { id: 'a1' } })
    expect(socket.emitted.filter((e) => e.event === 'agent:pause')).toHaveLength(1)
    expect(client.status).toMatchObject({ queuedCommands: 0, pendingCommands: 0 })
  })
})

describe('DashboardClient with compressed messages', () => {
  const deflate = (value: unknown) => deflateRawSync(JSON.stringify(value)).toString('base64')
  const welcome = {
    role: 'viewer',
    version: '1',
    serverTime: 0,
    resumed: false,
    instance: 'A',
    encoding: 'deflate-raw',
  }

  /** An inflate whose answers the test releases one by one, in any order. */
  function slowInflate() {
    const pending: { data: Uint8Array; release: () => void }[] = []
    const inflate: Inflate = (data) =>
      new Promise((resolve) => pending.push({ data, release: () => resolve(inflateRawSync(data).toString()) }))
    return { inflate, pending }
  }

  it('offers deflate-raw only where it can inflate, and says what the server chose', () => {
    create(null)
    expect(auth!()).toEqual({ token: 'tok' })
    client.dispose()
    create()
    client.start()
    socket.accept()
    socket.fire('welcome', welcome)
    expect(client.status.encoding).toBe('deflate-raw')
  })

  it('applies messages in arrival order, though decoding finishes out of order', async () => {
    const { inflate, pending } = slowInflate()
    create(inflate)
    const seen: (number | string)[] = []
    client.on('snapshot', (s) => seen.push(`S${s.seq}`))
    client.on('events', (events) => seen.push(...events.map((event) => event.seq)))
    client.start()
    socket.accept()
    socket.fire('welcome', welcome)
    socket.fire('snapshot:deflate-raw', deflate(snapshot(10)))
    socket.fire('events:deflate-raw', deflate([{ seq: 11 }, { seq: 12 }]))
    // A small batch comes plain, behind the compressed ones.
    socket.fire('events', [{ seq: 13 }] as DomainEvent[])
    socket.fire('events:deflate-raw', deflate([{ seq: 14 }]))
    expect(seen).toEqual([])
    pending[2]!.release()
    pending[0]!.release()
    await vi.advanceTimersByTimeAsync(0)
    expect(seen).toEqual(['S10'])
    pending[1]!.release()
    await vi.advanceTimersByTimeAsync(0)
    expect(seen).toEqual(['S10', 11, 12, 13, 14])
    expect(client.status.seq).toBe(14)
    // Nothing waits: a plain message is handed out at once again.
    socket.fire('events', [{ seq: 15 }] as DomainEvent[])
    expect(seen.at(-1)).toBe(15)
  })

  it('resumes from the last seq applied: the handshake waits for messages still being decoded', async () => {
    const { inflate, pending } = slowInflate()
    create(inflate)
    client.start()
    socket.accept()
    socket.fire('welcome', welcome)
    socket.fire('snapshot', snapshot(10))
    socket.fire('events:deflate-raw', deflate([{ seq: 11 }, { seq: 12 }]))
    socket.drop()
    let sent: DashboardAuth | null = null
    void authLater!().then((value) => (sent = value))
    await vi.advanceTimersByTimeAsync(0)
    expect(sent).toBeNull()
    pending[0]!.release()
    await vi.advanceTimersByTimeAsync(0)
    expect(sent).toEqual({ token: 'tok', encoding: 'deflate-raw', sinceSeq: 12, instance: 'A' })
  })

  it('drops what follows a message it cannot decode and reconnects to resume from before it', async () => {
    create((data) => inflateRawSync(data).toString())
    const seen: number[] = []
    client.on('events', (events) => seen.push(...events.map((event) => event.seq)))
    client.start()
    socket.accept()
    socket.fire('welcome', welcome)
    socket.fire('snapshot', snapshot(10))
    socket.fire('events:deflate-raw', 'AQIDBA==')
    socket.fire('events', [{ seq: 13 }] as DomainEvent[])
    await vi.advanceTimersByTimeAsync(0)
    expect(seen).toEqual([])
    expect(client.status.state).toBe('reconnecting')
    expect(client.status.lastError?.message).toMatch(/could not be decoded/)
    expect(auth!()).toEqual({ token: 'tok', encoding: 'deflate-raw', sinceSeq: 10, instance: 'A' })
    await vi.advanceTimersByTimeAsync(client.status.nextRetryAt! - Date.now())
    socket.accept()
    socket.fire('events', [{ seq: 11 }] as DomainEvent[])
    expect(seen).toEqual([11])
  })
})
