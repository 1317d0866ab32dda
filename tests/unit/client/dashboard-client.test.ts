import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DashboardClient, type DashboardSocket } from '../../../src/shared/client/dashboard-client'
import type { FetchLike } from '../../../src/shared/client/snapshot-poller'
import type { DomainEvent } from '../../../src/shared/events'
import type { DashboardAuth, Snapshot } from '../../../src/shared/protocol'
import { FakeSocket } from './fake-socket'

const snapshot = (seq: number): Snapshot => ({
  seq,
  agents: [],
  tasks: [],
  metrics: { current: null, history: [] } as unknown as Snapshot['metrics'],
  alerts: [],
})

let socket: FakeSocket
let auth: (() => DashboardAuth) | null
let fetched: string[]
let serverSeq: number
let client: DashboardClient

function create(): DashboardClient {
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
    createSocket: (_url, options) => {
      socket = new FakeSocket()
      const given = options.auth as (callback: (auth: DashboardAuth) => void) => void
      auth = () => {
        let value: DashboardAuth | null = null
        given((a) => (value = a))
        return value!
      }
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
    expect(auth!()).toEqual({ token: 'tok' })
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
    expect(auth!()).toEqual({ token: 'tok', sinceSeq: 12, instance: 'A' })
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
    expect(auth!()).toEqual({ token: 'tok', sinceSeq: 21, instance: 'A' })
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
