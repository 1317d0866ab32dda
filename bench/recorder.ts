/** What the load clients record, shared by all viewers of one process. */
import { CHANNELS, type Channel } from '../src/shared/events'
import type { ClientStats, Distribution } from './api'
import { Histogram } from './histogram'

export class Recorder {
  readonly immediate = new Histogram()
  /** Every event, whatever its channel (the capacity scenario). */
  readonly all = new Histogram()
  readonly channels = Object.fromEntries(CHANNELS.map((channel) => [channel, new Histogram()])) as Record<
    Channel,
    Histogram
  >
  /** Per seq, the delay at the first client it reached: the pipeline's own hold time, without the fan-out spread. */
  private readonly first = new Map<number, { channel: Channel | 'immediate'; delay: number }>()
  messages = 0
  events = 0
  resyncs = 0
  outOfOrder = 0
  disconnects = 0
  private since = performance.now()

  reset(): void {
    this.immediate.reset()
    this.all.reset()
    for (const histogram of Object.values(this.channels)) histogram.reset()
    this.messages = 0
    this.events = 0
    this.resyncs = 0
    this.outOfOrder = 0
    this.disconnects = 0
    this.first.clear()
    this.since = performance.now()
  }

  /** Notes the first arrival of an event (bounded: heavy runs stop noting after 200,000 events). */
  firstArrival(seq: number, channel: Channel | 'immediate', delay: number): void {
    if (this.first.size < 200_000 && !this.first.has(seq)) this.first.set(seq, { channel, delay })
  }

  /** The first arrivals of one channel, per seq. */
  firstOf(channel: Channel | 'immediate'): [number, number][] {
    const pairs: [number, number][] = []
    for (const [seq, entry] of this.first) if (entry.channel === channel) pairs.push([seq, entry.delay])
    return pairs
  }

  private firstSummary(channel: Channel | 'immediate'): Distribution {
    const histogram = new Histogram()
    for (const entry of this.first.values()) if (entry.channel === channel) histogram.record(entry.delay)
    return histogram.summary()
  }

  stats(clients: number, connected: number): ClientStats {
    return {
      clients,
      connected,
      disconnects: this.disconnects,
      messages: this.messages,
      events: this.events,
      resyncs: this.resyncs,
      outOfOrder: this.outOfOrder,
      immediate: this.immediate.summary(),
      channels: Object.fromEntries(
        CHANNELS.map((channel) => [channel, this.channels[channel].summary()]),
      ) as ClientStats['channels'],
      firstImmediate: this.firstSummary('immediate'),
      firstChannels: Object.fromEntries(
        CHANNELS.map((channel) => [channel, this.firstSummary(channel)]),
      ) as ClientStats['channels'],
      elapsedMs: Math.round(performance.now() - this.since),
    }
  }
}

/** Epoch ms with sub-millisecond precision (Date.now() has whole ms only). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now()
}
