/**
 * The load clients, in their own process: many real socket.io-client
 * viewers, the convergence check against `GET /api/snapshot`, the
 * bytes-per-client comparison of push against polling, one SDK agent at
 * its top task rate, and task submissions at the top accepted rate. Driven over IPC.
 */
import type { Snapshot } from '../src/shared/protocol'
import type { BytesReport, ClientsApi, ConnectReport, ConvergeReport, WindowReport } from './api'
import { ByteProxy } from './byte-proxy'
import { deflateEstimate } from './deflate-estimate'
import { eventSizes } from './event-sizes'
import { Poller } from './poller'
import { sampleProcess } from './process-sample'
import { Recorder } from './recorder'
import { serve } from './rpc'
import { runSdkAgent } from './sdk-agent-run'
import { runSubmissions } from './submit-run'
import { Viewer } from './viewer'

const recorder = new Recorder()
let viewers: Viewer[] = []

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function fetchSnapshot(url: string, token: string): Promise<Snapshot> {
  const response = await fetch(`${url}/api/snapshot`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  })
  if (!response.ok) throw new Error(`GET /api/snapshot answered ${response.status}`)
  return (await response.json()) as Snapshot
}

serve<ClientsApi>({
  async connect({ url, token, count, wave, timeoutMs, encoding }) {
    const started = performance.now()
    const report: ConnectReport = { connected: 0, failed: 0, ms: 0, deflate: false, deflateRaw: false, errors: [] }
    for (let first = 0; first < count; first += wave) {
      const batch = Array.from(
        { length: Math.min(wave, count - first) },
        () => new Viewer(url, token, recorder, encoding),
      )
      const results = await Promise.allSettled(batch.map((viewer) => viewer.ready(timeoutMs)))
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') {
          report.connected++
          viewers.push(batch[i]!)
        } else {
          report.failed++
          batch[i]!.close()
          const message = String((result.reason as Error).message ?? result.reason)
          if (report.errors.length < 5 && !report.errors.includes(message)) report.errors.push(message)
        }
      })
    }
    report.ms = Math.round(performance.now() - started)
    report.deflate = viewers.length > 0 && viewers.every((viewer) => viewer.deflate())
    report.deflateRaw = viewers.length > 0 && viewers.every((viewer) => viewer.encoding === 'deflate-raw')
    return report
  },

  async reset() {
    recorder.reset()
    for (const viewer of viewers) viewer.gaps = []
    return null
  },

  async window({ from, to, timeoutMs }): Promise<WindowReport> {
    const started = performance.now()
    const behind = () => viewers.some((viewer) => viewer.connected && viewer.lastSeq < to)
    while (behind() && performance.now() - started < timeoutMs) await sleep(20)
    return {
      clients: viewers.length,
      connected: viewers.filter((viewer) => viewer.connected).length,
      disconnects: recorder.disconnects,
      resyncs: recorder.resyncs,
      outOfOrder: recorder.outOfOrder,
      delivered: viewers.reduce((sum, viewer) => sum + viewer.deliveredIn(from, to), 0),
      reached: viewers.filter((viewer) => viewer.lastSeq >= to).length,
      waitedMs: Math.round(performance.now() - started),
      delays: recorder.all.toSparse(),
    }
  },

  async immediate() {
    return {
      disconnects: recorder.disconnects,
      delays: recorder.immediate.toSparse(),
      first: recorder.firstOf('immediate'),
    }
  },

  async stats() {
    return recorder.stats(viewers.length, viewers.filter((viewer) => viewer.connected).length)
  },

  async converge({ url, token, timeoutMs, connectedOnly }) {
    const started = performance.now()
    const snapshot = await fetchSnapshot(url, token)
    const counted = connectedOnly ? viewers.filter((viewer) => viewer.connected) : viewers
    const behind = () => counted.filter((viewer) => viewer.lastSeq < snapshot.seq)
    while (behind().length > 0 && performance.now() - started < timeoutMs) await sleep(50)
    const report: ConvergeReport = {
      seq: snapshot.seq,
      clients: counted.length,
      reachedSeq: counted.length - behind().length,
      minLastSeq: Math.min(...counted.map((viewer) => viewer.lastSeq)),
      stateEqual: 0,
      mismatches: [],
      waitedMs: Math.round(performance.now() - started),
    }
    for (const viewer of counted) {
      const difference = viewer.differences(snapshot)
      if (difference === null) report.stateEqual++
      else if (report.mismatches.length < 5) report.mismatches.push(difference)
    }
    return report
  },

  async disconnect() {
    for (const viewer of viewers) viewer.close()
    viewers = []
    await sleep(200)
    return null
  },

  async sample() {
    return sampleProcess()
  },

  async agentRun(request) {
    return runSdkAgent(request)
  },

  async submitRun(request) {
    return runSubmissions(request)
  },

  async record({ url, token, durationMs }) {
    const viewer = new Viewer(url, token, new Recorder())
    try {
      await viewer.ready(10_000)
      const messages: string[] = []
      viewer.socket.io.engine.on('data', (data: unknown) => {
        if (typeof data === 'string') messages.push(`4${data}`)
      })
      await sleep(durationMs)
      return { messages }
    } finally {
      viewer.close()
    }
  },

  async bytes({ url, token, durationMs, pollIntervalMs, encoding }): Promise<BytesReport> {
    const pushProxy = ByteProxy.forUrl(url)
    const pollProxy = ByteProxy.forUrl(url)
    const pushUrl = await pushProxy.listen()
    const pollUrl = await pollProxy.listen()
    const own = new Recorder()
    const push = new Viewer(pushUrl, token, own, encoding)
    const poller = new Poller(pollUrl, token)
    try {
      await push.ready(10_000)
      await poller.poll()
      // Steady state only: the handshake and first snapshot are paid once per connection, not per minute.
      const messages: Buffer[] = []
      let recording = false
      push.socket.io.engine.on('data', (data: unknown) => {
        if (recording && typeof data === 'string') messages.push(Buffer.from(`4${data}`))
      })
      await sleep(500)
      pushProxy.reset()
      pollProxy.reset()
      poller.reset()
      recording = true
      const started = performance.now()
      poller.start(pollIntervalMs)
      await sleep(durationMs)
      poller.stop()
      recording = false
      const measuredMs = performance.now() - started
      const pushDown = pushProxy.count.down
      const { raw, deflated } = await deflateEstimate(messages)
      const polls = poller.count
      const bodies = polls.requests - polls.failed
      return {
        durationMs: Math.round(measuredMs),
        push: {
          ...pushProxy.count,
          messages: messages.length,
          payloadBytes: messages.reduce((sum, message) => sum + message.length, 0),
          events: eventSizes(messages),
          deflateEstimate: push.deflate() ? pushDown : pushDown - raw + deflated,
          deflate: push.deflate(),
        },
        poll: {
          ...pollProxy.count,
          requests: polls.requests,
          failed: polls.failed,
          meanBodyBytes: bodies > 0 ? Math.round(polls.bodyBytes / bodies) : 0,
          // Same headers plus `content-encoding: gzip`, gzip-sized bodies.
          gzipEstimate: pollProxy.count.down - polls.bodyBytes + polls.gzipBodyBytes + 24 * bodies,
        },
      }
    } finally {
      poller.stop()
      push.close()
      await pushProxy.close()
      await pollProxy.close()
    }
  },
})
