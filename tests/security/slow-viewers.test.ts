/**
 * Viewers that read slowly or not at all, viewers that ask for expensive
 * answers again and again, and too many viewers: what waits in the server for
 * each one is bounded, a viewer that does not drain is disconnected, replays
 * are bounded in bytes and rationed, connections are capped — and the other
 * viewers and the server carry on.
 */
import { randomBytes } from 'node:crypto'
import { inflateRawSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import type { Snapshot, SyncResponse } from '../../src/shared/protocol'
import type { Result } from '../../src/shared/result'
import { TEST_TOKENS, connectDashboard, dashboardClient, startCore, until, type DashboardSocket } from '../helpers/core'
import { silentViewer } from '../helpers/silent-viewer'
import { healthy, metric, readLogs, sleep } from './support'

type TestCore = Awaited<ReturnType<typeof startCore>>

const cores: TestCore[] = []
const sockets: DashboardSocket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

async function core(argv: string[], limits: Parameters<typeof startCore>[1] = {}): Promise<TestCore> {
  const started = await startCore(['--no-demo', ...argv], limits)
  cores.push(started)
  return started
}

async function viewer(url: string, token = TEST_TOKENS.viewer) {
  const connected = await connectDashboard(url, token)
  sockets.push(connected.socket)
  return connected
}

/** Log lines of `size` characters, a few hundred at a time between turns of the event loop. */
async function produce(target: TestCore, lines: number, size: number): Promise<void> {
  const text = 'x'.repeat(size)
  for (let i = 0; i < lines; i++) {
    target.coordinator.reportLog(null, null, 'info', `${i} ${text}`)
    if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve))
  }
}

const lastSeq = (socket: DashboardSocket) => {
  const seen = { seq: 0 }
  socket.on('snapshot', (snapshot) => (seen.seq = snapshot.seq))
  socket.on('events', (events) => (seen.seq = events.at(-1)!.seq))
  return seen
}

describe('a viewer that stops reading', () => {
  it('is held back, then disconnected when its backlog does not shrink; the others get everything', async () => {
    const server = await core([], { limits: { viewerQueueBytes: 64 * 1024, viewerStallMs: 1000 } })
    const reader = await viewer(server.url)
    const readerSeen = lastSeq(reader.socket)
    const silent = await silentViewer(server.url, TEST_TOKENS.viewer)

    await produce(server, 300, 4000)
    await until(() => readerSeen.seq >= 300, 5000, 'the reader to get every line')
    await untilAsync(async () => (await metric(server.url, 'swarm_clients_lagging')) === 1, 5000, 'held back')
    const held = await metric(server.url, 'swarm_client_queued_bytes_max')
    expect(held).toBeGreaterThan(64 * 1024)
    // Held back, nothing more is queued for it.
    await produce(server, 300, 4000)
    expect(await metric(server.url, 'swarm_client_queued_bytes_max')).toBeLessThanOrEqual(held + 1000)

    await untilAsync(
      async () => (await metric(server.url, 'swarm_viewers_dropped_total', { reason: 'stalled' })) === 1,
      5000,
      'the silent viewer disconnected',
    )
    expect((await silent.poll()).ok).toBe(false)
    expect(await metric(server.url, 'swarm_clients_connected')).toBe(1)
    expect(reader.socket.connected).toBe(true)
    await healthy(server.url)
    await server.stop()
    cores.splice(0)
    expect(readLogs(server.dataDir)).toMatch(/viewer disconnected: \d+ bytes waiting for it did not shrink in time/)
  })

  it('negotiated deflate-raw: its compressed batches count the same, and it is held back and dropped the same way', async () => {
    const server = await core([], { limits: { viewerQueueBytes: 64 * 1024, viewerStallMs: 1000 } })
    const reader = dashboardClient(server.url, TEST_TOKENS.viewer, {
      auth: { token: TEST_TOKENS.viewer, encoding: 'deflate-raw' },
    })
    sockets.push(reader)
    const readerSeen = { seq: 0, compressed: 0 }
    reader.on('events', (events) => (readerSeen.seq = events.at(-1)!.seq))
    reader.on('events:deflate-raw', (data) => {
      readerSeen.compressed++
      readerSeen.seq = (JSON.parse(inflateRawSync(Buffer.from(data, 'base64')).toString()) as { seq: number }[]).at(
        -1,
      )!.seq
    })
    await new Promise((resolve) => reader.once('welcome', resolve))
    await silentViewer(server.url, TEST_TOKENS.viewer, { encoding: 'deflate-raw' })

    // Random text: compressed to about half, so 300 lines of 4,000 characters still make ~600 KB for it.
    const line = (i: number) => `${i} ${randomBytes(2000).toString('hex')}`
    const burst = async (from: number) => {
      for (let i = from; i < from + 300; i++) {
        server.coordinator.reportLog(null, null, 'info', line(i))
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
      }
    }
    await burst(0)
    await until(() => readerSeen.seq >= 300, 5000, 'the reader to get every line')
    expect(readerSeen.compressed).toBeGreaterThan(0)
    await untilAsync(async () => (await metric(server.url, 'swarm_clients_lagging')) === 1, 5000, 'held back')
    const held = await metric(server.url, 'swarm_client_queued_bytes_max')
    expect(held).toBeGreaterThan(64 * 1024)
    await burst(300)
    expect(await metric(server.url, 'swarm_client_queued_bytes_max')).toBeLessThanOrEqual(held + 1000)
    await untilAsync(
      async () => (await metric(server.url, 'swarm_viewers_dropped_total', { reason: 'stalled' })) === 1,
      5000,
      'the silent viewer disconnected',
    )
    expect(await metric(server.url, 'swarm_clients_connected')).toBe(1)
    await until(() => readerSeen.seq >= 600, 5000, 'the reader to get every line of the second burst')
  })

  it('gets a fresh snapshot instead of its backlog once it reads again', async () => {
    const server = await core([], { limits: { viewerQueueBytes: 64 * 1024, viewerStallMs: 5000 } })
    const silent = await silentViewer(server.url, TEST_TOKENS.viewer)
    await produce(server, 300, 4000)
    await untilAsync(async () => (await metric(server.url, 'swarm_clients_lagging')) === 1, 5000, 'held back')
    // Reading drains what waited (the snapshot and the first batches); the next answer is a fresh snapshot.
    const drained = await silent.poll()
    expect(drained.ok).toBe(true)
    const next = await silent.poll()
    expect(next.body).toContain('"snapshot"')
    const snapshot = JSON.parse(next.body.slice(next.body.indexOf('['))) as [string, Snapshot]
    expect(snapshot[1].seq).toBeGreaterThanOrEqual(300)
    expect(await metric(server.url, 'swarm_client_resyncs_total')).toBe(1)
  })

  it('is disconnected when the process holds more than the memory bound in buffers, before its stall time', async () => {
    const server = await core([], {
      limits: { viewerQueueBytes: 64 * 1024, viewerStallMs: 60_000, viewersQueueBytes: 1 },
    })
    await silentViewer(server.url, TEST_TOKENS.viewer)
    await produce(server, 300, 4000)
    await untilAsync(
      async () => (await metric(server.url, 'swarm_viewers_dropped_total', { reason: 'memory' })) === 1,
      5000,
      'the held-back viewer disconnected for memory',
    )
  })

  it('many leaving at once do not stall the server', async () => {
    const server = await core([], { limits: { viewerQueueBytes: 16 * 1024, viewerStallMs: 60_000 } })
    const silent = await Promise.all(Array.from({ length: 100 }, () => silentViewer(server.url, TEST_TOKENS.viewer)))
    await produce(server, 200, 2000)
    await untilAsync(async () => (await metric(server.url, 'swarm_clients_lagging')) === 100, 10_000, 'all held')
    let worst = 0
    let probing = true
    const probe = (async () => {
      while (probing) {
        const started = performance.now()
        await healthy(server.url, 10_000)
        worst = Math.max(worst, performance.now() - started)
        await sleep(20)
      }
    })()
    // Each sends Engine.IO's close packet: the server ends all 100 sessions now.
    await Promise.all(
      silent.map((one) =>
        fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${one.sid}`, { method: 'POST', body: '1' }),
      ),
    )
    await untilAsync(async () => (await metric(server.url, 'swarm_clients_connected')) === 0, 5000, 'all gone')
    probing = false
    await probe
    // Before: each leaving viewer was sent a snapshot on its way out, 9–11 s for 500 (the review's figure).
    expect(worst).toBeLessThan(2000)
  })
})

describe('expensive answers', () => {
  it('replays a gap only within the byte bound, and rations sync per connection', async () => {
    const server = await core([])
    const { socket } = await viewer(server.url)
    await produce(server, 100, 16_384)
    const sync = (sinceSeq: number) => socket.emitWithAck('sync', { sinceSeq }) as Promise<Result<SyncResponse>>

    // 100 lines of 16 KiB are 1.6 MB: more than the 1 MiB a replay may be, so a snapshot comes instead.
    expect(await sync(0)).toMatchObject({ ok: true, data: { kind: 'snapshot', snapshot: { seq: 100 } } })
    const recent = await sync(95)
    expect(recent.ok && recent.data.kind === 'events' && recent.data.events.map((event) => event.seq)).toEqual([
      96, 97, 98, 99, 100,
    ])
    for (let i = 0; i < 3; i++) expect(await sync(99)).toMatchObject({ ok: true })
    const refused = await sync(99)
    expect(refused).toMatchObject({ ok: false, error: { code: 'rate_limited' } })
    expect(!refused.ok && refused.error.message).toMatch(
      /5 replays or snapshots at once, then one every 2000 ms; retry in \d+ ms/,
    )
    await sleep(2100)
    expect(await sync(99)).toMatchObject({ ok: true })
  })

  it('rations the snapshots that repeated widening subscriptions bring, holding the viewer back meanwhile', async () => {
    const server = await core([])
    const { socket } = await viewer(server.url)
    const snapshots: Snapshot[] = []
    socket.on('snapshot', (snapshot) => snapshots.push(snapshot))
    for (let i = 0; i < 20; i++) {
      await socket.emitWithAck('subscribe', { channels: ['agents'] })
      await socket.emitWithAck('subscribe', { channels: ['agents', 'tasks', 'metrics', 'logs', 'alerts'] })
    }
    await sleep(300)
    // 20 widenings: the burst of 5 goes at once, the rest wait for the allowance and coalesce into one.
    expect(snapshots.length).toBeLessThanOrEqual(6)
    const events: number[] = []
    socket.on('events', (batch) => events.push(...batch.map((event) => event.seq)))
    await produce(server, 3, 10)
    await sleep(1500)
    // Held back until its owed snapshot: it gets that (covering the lines) instead of the lines themselves.
    await until(() => snapshots.at(-1)!.seq >= 3, 5000, 'the owed snapshot')
    expect(events.filter((seq) => seq <= snapshots.at(-1)!.seq)).toEqual([])
  })

  it('answers a resume whose gap is over the byte bound with a snapshot', async () => {
    const server = await core([])
    const first = await viewer(server.url)
    const resumeAt = first.snapshot.seq
    first.socket.disconnect()
    await produce(server, 100, 16_384)
    const again = dashboardClient(server.url, TEST_TOKENS.viewer, {
      auth: { token: TEST_TOKENS.viewer, sinceSeq: resumeAt, instance: first.welcome.instance },
    })
    sockets.push(again)
    const welcome = new Promise<{ resumed: boolean }>((resolve) => again.once('welcome', resolve))
    const snapshot = new Promise<Snapshot>((resolve) => again.once('snapshot', resolve))
    expect((await welcome).resumed).toBe(false)
    expect((await snapshot).seq).toBeGreaterThanOrEqual(100)
  })
})

describe('viewer connection caps', () => {
  it('refuses viewers over the per-token and total caps with a reason, and admits again when one leaves', async () => {
    const server = await core(['--max-viewers', '3', '--max-viewers-per-token', '2'])
    await viewer(server.url, TEST_TOKENS.viewer)
    const second = await viewer(server.url, TEST_TOKENS.viewer)
    const refusal = (token: string) =>
      new Promise<{ message: string; data?: { message?: string } }>((resolve, reject) => {
        const socket = dashboardClient(server.url, token)
        sockets.push(socket)
        socket.once('connect', () => reject(new Error('admitted over the cap')))
        socket.once('connect_error', (error) => resolve(error as Error & { data?: { message?: string } }))
      })
    const perToken = await refusal(TEST_TOKENS.viewer)
    expect(perToken.message).toBe('too_many_viewers')
    expect(perToken.data?.message).toMatch(
      /the viewer token has 2 viewers connected, its limit \(--max-viewers-per-token\)/,
    )
    await viewer(server.url, TEST_TOKENS.operator)
    const total = await refusal(TEST_TOKENS.operator)
    expect(total.data?.message).toMatch(/the server has 3 viewers connected, its limit \(--max-viewers\)/)
    expect(await metric(server.url, 'swarm_viewers_refused_total', { cap: 'perToken' })).toBe(1)
    expect(await metric(server.url, 'swarm_viewers_refused_total', { cap: 'total' })).toBe(1)

    second.socket.disconnect()
    await untilAsync(async () => (await metric(server.url, 'swarm_clients_connected')) === 2, 5000, 'one gone')
    await viewer(server.url, TEST_TOKENS.viewer)
  })
})

async function untilAsync(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}
