/**
 * The `deflate-raw` encoding end to end: real server, real socket.io-client
 * viewers over WebSocket and long-polling, the shared DashboardClient in
 * Node. A viewer that offers it gets the plain viewers' snapshot and events,
 * compressed once per batch for all such viewers; one that does not (or
 * offers a name the server does not know) gets plain JSON as before; a
 * malformed offer is refused.
 */
import { inflateRawSync } from 'node:zlib'
import { io } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { DashboardClient, type DashboardSocket as ClientSocket } from '../../src/shared/client/dashboard-client'
import { replicate } from '../../src/shared/client/replica'
import type { DomainEvent } from '../../src/shared/events'
import type { Snapshot, Welcome } from '../../src/shared/protocol'
import { TEST_TOKENS, dashboardClient, getJson, startCore, until, type DashboardSocket } from '../helpers/core'
import { metric } from '../security/support'

type TestCore = Awaited<ReturnType<typeof startCore>>
const cores: TestCore[] = []
const sockets: DashboardSocket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

/** A server with a few queued tasks, so that its snapshot is large enough to be compressed. */
async function core(argv: string[] = []): Promise<TestCore> {
  const started = await startCore(['--no-demo', ...argv])
  cores.push(started)
  for (let i = 0; i < 10; i++) {
    started.coordinator.submit({
      name: `waits ${i}`,
      kind: 'nobody-runs-this',
      payload: { i },
      priority: 0,
      capabilities: [],
      timeoutMs: null,
      maxRetries: 0,
    })
  }
  return started
}

/** What one viewer received, decoded, in order; and the compressed messages' bytes as they came. */
interface Received {
  socket: DashboardSocket
  welcome: Welcome | null
  snapshots: Snapshot[]
  events: DomainEvent[]
  compressed: Buffer[]
  plainBatches: number
  lastSeq: number
}

/** Opens a viewer now; `viewer()` also waits for its first snapshot. */
function open(url: string, auth: Record<string, unknown>, transports = ['websocket']): Received {
  const socket = dashboardClient(url, TEST_TOKENS.viewer, { auth: { token: TEST_TOKENS.viewer, ...auth }, transports })
  sockets.push(socket)
  const received: Received = {
    socket,
    welcome: null,
    snapshots: [],
    events: [],
    compressed: [],
    plainBatches: 0,
    lastSeq: -1,
  }
  const inflate = (data: string) => {
    const bytes = Buffer.from(data, 'base64')
    received.compressed.push(bytes)
    return JSON.parse(inflateRawSync(bytes).toString()) as unknown
  }
  const snapshot = (value: Snapshot) => {
    received.snapshots.push(value)
    received.lastSeq = value.seq
  }
  const events = (batch: DomainEvent[]) => {
    received.events.push(...batch)
    received.lastSeq = batch.at(-1)!.seq
  }
  socket.on('welcome', (welcome) => (received.welcome = welcome))
  socket.on('snapshot', snapshot)
  socket.on('snapshot:deflate-raw', (data) => snapshot(inflate(data) as Snapshot))
  socket.on('events', (batch) => {
    received.plainBatches++
    events(batch)
  })
  socket.on('events:deflate-raw', (data) => events(inflate(data) as DomainEvent[]))
  return received
}

async function viewer(url: string, auth: Record<string, unknown>, transports = ['websocket']): Promise<Received> {
  const received = open(url, auth, transports)
  await until(() => received.snapshots.length > 0, 5000, 'the first snapshot')
  return received
}

async function serverSeq(server: TestCore): Promise<number> {
  return ((await getJson(`${server.url}/api/snapshot`, TEST_TOKENS.viewer)).body as Snapshot).seq
}

/** Log lines, a few at a time between turns, so that batches of different sizes leave. */
async function produce(target: TestCore, lines: number): Promise<void> {
  for (let i = 0; i < lines; i++) {
    target.coordinator.reportLog(null, null, i % 10 === 9 ? 'error' : 'info', `line ${i}: ${'text '.repeat(i % 40)}`)
    if (i % 25 === 24) await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('auth.encoding: deflate-raw', () => {
  it('sends the plain viewers’ snapshot and events, each batch compressed once for all such viewers', async () => {
    const server = await core()
    const plain = await viewer(server.url, {})
    const compressed = await Promise.all([1, 2, 3].map(() => viewer(server.url, { encoding: 'deflate-raw' })))
    expect(plain.welcome?.encoding).toBe('json')
    for (const one of compressed) expect(one.welcome?.encoding).toBe('deflate-raw')
    expect(compressed.map((one) => one.compressed.length)).toEqual([1, 1, 1])
    expect(compressed[0]!.snapshots[0]!.tasks).toEqual(plain.snapshots[0]!.tasks)
    const before = await metric(server.url, 'swarm_deflated_messages_total')

    await produce(server, 400)
    // And one short line alone: a batch too small to be worth compressing.
    await new Promise((resolve) => setTimeout(resolve, 20))
    server.coordinator.reportLog(null, null, 'error', 'short')
    const seq = await serverSeq(server)
    await until(
      () => [plain, ...compressed].every((one) => one.lastSeq === seq),
      10_000,
      'every viewer at the last seq',
    )

    for (const one of compressed) expect(one.events).toEqual(plain.events)
    // Large batches came compressed, small ones plain (under 512 bytes of JSON), to every viewer alike.
    const batches = compressed[0]!.compressed.length - 1
    expect(batches).toBeGreaterThan(3)
    expect(compressed[0]!.plainBatches).toBeGreaterThan(0)
    expect(compressed[0]!.plainBatches + batches).toBe(plain.plainBatches)
    // The same bytes to each (their snapshots came in rounds of their own), compressed once per batch.
    const batchBytes = (one: Received) => one.compressed.slice(1).map((bytes) => bytes.toString('base64'))
    for (const one of compressed.slice(1)) expect(batchBytes(one)).toEqual(batchBytes(compressed[0]!))
    expect((await metric(server.url, 'swarm_deflated_messages_total')) - before).toBe(batches)
    const json = await metric(server.url, 'swarm_deflated_bytes_total', { form: 'json' })
    expect(await metric(server.url, 'swarm_deflated_bytes_total', { form: 'deflate-raw' })).toBeLessThan(json / 2)
  })

  it('works over long-polling too', async () => {
    const server = await core()
    const plain = await viewer(server.url, {}, ['polling'])
    const compressed = await viewer(server.url, { encoding: 'deflate-raw' }, ['polling'])
    expect(compressed.compressed).toHaveLength(1)
    await produce(server, 200)
    const seq = await serverSeq(server)
    await until(() => plain.lastSeq === seq && compressed.lastSeq === seq, 10_000, 'both viewers at the last seq')
    expect(compressed.events).toEqual(plain.events)
    expect(compressed.compressed.length).toBeGreaterThan(1)
  })

  it('replays the events a resuming viewer missed compressed as well', async () => {
    const server = await core()
    const first = await viewer(server.url, { encoding: 'deflate-raw' })
    const instance = first.welcome!.instance
    const since = first.lastSeq
    first.socket.disconnect()
    await produce(server, 100)
    const seq = await serverSeq(server)
    const again = open(server.url, { encoding: 'deflate-raw', sinceSeq: since, instance })
    await until(() => again.lastSeq === seq, 5000, 'the missed events')
    expect(again.welcome?.resumed).toBe(true)
    expect(again.compressed.length).toBe(1)
    expect(again.snapshots).toHaveLength(0)
    expect(again.events.map((event) => event.seq)).toEqual(Array.from({ length: seq - since }, (_, i) => since + 1 + i))
  })

  it('the shared client negotiates it in Node and converges with the server', async () => {
    const server = await core()
    const client = new DashboardClient({
      url: server.url,
      token: TEST_TOKENS.viewer,
      createSocket: (url, options) => io(url, { ...options, transports: ['websocket'] }) as ClientSocket,
      fetch: (input, init) => fetch(input, init),
    })
    const replica = replicate(client)
    try {
      client.start()
      await until(() => client.status.seq !== null, 5000, 'the first snapshot')
      expect(client.status.encoding).toBe('deflate-raw')
      await produce(server, 300)
      const expected = await serverSeq(server)
      await until(() => replica.state.seq === expected, 10_000, 'the replica at the server’s seq')
    } finally {
      replica.stop()
      client.dispose()
    }
  })
})

describe('auth.encoding: other values', () => {
  it('a name the server does not know: plain JSON, and the welcome says so', async () => {
    const server = await core()
    const other = await viewer(server.url, { encoding: 'zstd' })
    expect(other.welcome?.encoding).toBe('json')
    expect(other.compressed).toHaveLength(0)
    await produce(server, 100)
    const seq = await serverSeq(server)
    await until(() => other.lastSeq === seq, 5000, 'the viewer at the last seq')
    expect(other.compressed).toHaveLength(0)
  })

  it.each([[42], [{ name: 'deflate-raw' }], [['deflate-raw']], [null]])(
    'anything but a string (%j) is refused with bad_request, and nothing changes',
    async (encoding) => {
      const server = await core()
      const socket = dashboardClient(server.url, TEST_TOKENS.viewer, {
        auth: { token: TEST_TOKENS.viewer, encoding },
      })
      sockets.push(socket)
      const error = await new Promise<Error & { data?: { message?: string } }>((resolve, reject) => {
        socket.once('connect', () => reject(new Error('connected, but should have been refused')))
        socket.once('connect_error', resolve)
      })
      expect(error.message).toBe('bad_request')
      expect(error.data?.message).toMatch(/auth\.encoding must be a string \(json or deflate-raw\)/)
      expect(await metric(server.url, 'swarm_clients_connected')).toBe(0)
    },
  )
})
