/**
 * While the core cannot switch compression on: what it would cost. One
 * viewer records the real message stream of the mixed load; afterwards,
 * with the server gone, this process compresses that stream once per
 * viewer, as `ws` would (a deflate context per connection), and times it.
 */
import { BENCH_TOKENS } from '../api'
import { sleep } from '../child'
import { deflateCpuMs, deflateEstimate } from '../deflate-estimate'
import { NO_DEMO, withProcesses } from '../harness'
import { mixedLoad } from '../scenario'

const RATE = 2000
const VIEWERS = 100

export interface CompressionEstimate {
  eventsPerS: number
  viewers: number
  recordedMs: number
  messages: number
  rawBytes: number
  deflatedBytes: number
  /** CPU the compression of one second of this load for all viewers would take, ms. */
  cpuMsPerLoadSecond: number
  /** Event rate at which compression alone would keep one core busy. */
  ceilingEventsPerS: number
}

export async function estimateCompression(quick: boolean): Promise<CompressionEstimate> {
  const recordedMs = quick ? 2000 : 4000
  const messages = await withProcesses(NO_DEMO, async (server, clients) => {
    const recording = clients.caller.call(
      'record',
      { url: server.url, token: BENCH_TOKENS.viewer, durationMs: recordedMs + 500 },
      recordedMs + 30_000,
    )
    await sleep(300)
    await server.child.caller.call('runLoad', mixedLoad(RATE, recordedMs), recordedMs + 30_000)
    return (await recording).messages.map((message) => Buffer.from(message))
  })
  const viewers = quick ? 20 : VIEWERS
  const cpuMs = (await deflateCpuMs(messages, viewers)) * (VIEWERS / viewers)
  const { raw, deflated } = await deflateEstimate(messages)
  const cpuMsPerLoadSecond = cpuMs / (recordedMs / 1000)
  return {
    eventsPerS: RATE,
    viewers: VIEWERS,
    recordedMs,
    messages: messages.length,
    rawBytes: raw,
    deflatedBytes: deflated,
    cpuMsPerLoadSecond: Math.round(cpuMsPerLoadSecond),
    ceilingEventsPerS: Math.round((RATE * 1000) / cpuMsPerLoadSecond),
  }
}
