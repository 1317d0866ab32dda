/**
 * Load clients in as many processes as it takes: N `clients.ts` children,
 * the viewers spread evenly over them, driven together. One process parses
 * for every viewer it holds, on one core; at 100 viewers and some thousands
 * of events a second, or at thousands of viewers, that process is the
 * limit, not the server. Several processes share the machine's cores with
 * the server (2 here), so the pool also says when the client side was the
 * limit: a process at ≥ 90 % of a core, or event-loop delays past 100 ms.
 */
import type {
  ClientsApi,
  ConnectReport,
  ConnectRequest,
  ConvergeReport,
  ConvergeRequest,
  Distribution,
  ProcessSample,
  WindowReport,
  WindowRequest,
} from './api'
import { type Child } from './child'
import { startClients } from './harness'
import { Histogram } from './histogram'

/** A client process this busy is the limit of what it measures. */
const BUSY_PCT = 90
const LATE_LOOP_MS = 100

export interface ClientLoad {
  /** CPU of each client process over the stretch, % of one core. */
  cpuPct: number[]
  /** The worst event-loop delay (p99) of any client process over the stretch, ms. */
  loopDelayP99Ms: number
  /** Why the client side may have been the limit, or null. */
  limit: string | null
}

export class ClientPool {
  readonly children: Child<ClientsApi>[]

  constructor(processes: number) {
    this.children = Array.from({ length: processes }, () => startClients())
  }

  get size(): number {
    return this.children.length
  }

  /**
   * Connects `count` viewers, spread evenly; each process opens `wave` at a
   * time, so at most `wave × processes` handshakes are in flight together
   * (the server caps sessions without a namespace at 1,000 in all).
   */
  async connect(request: ConnectRequest, timeoutMs = 600_000): Promise<ConnectReport> {
    const shares = this.children.map(
      (_, i) => Math.floor(request.count / this.size) + (i < request.count % this.size ? 1 : 0),
    )
    const reports = await Promise.all(
      this.children.map((child, i) =>
        shares[i]! > 0 ? child.caller.call('connect', { ...request, count: shares[i]! }, timeoutMs) : null,
      ),
    )
    const done = reports.filter((report): report is ConnectReport => report !== null)
    return {
      connected: sum(done.map((report) => report.connected)),
      failed: sum(done.map((report) => report.failed)),
      ms: Math.max(...done.map((report) => report.ms)),
      deflate: done.every((report) => report.deflate),
      deflateRaw: done.every((report) => report.deflateRaw),
      errors: [...new Set(done.flatMap((report) => report.errors))].slice(0, 5),
    }
  }

  async reset(): Promise<void> {
    await Promise.all(this.children.map((child) => child.caller.call('reset', null)))
  }

  async window(request: WindowRequest): Promise<WindowReport & { delayHistogram: Histogram }> {
    const reports = await Promise.all(
      this.children.map((child) => child.caller.call('window', request, request.timeoutMs + 60_000)),
    )
    const delayHistogram = new Histogram()
    for (const report of reports) delayHistogram.addSparse(report.delays)
    const total = (key: keyof Omit<WindowReport, 'delays'>) => sum(reports.map((report) => report[key]))
    return {
      clients: total('clients'),
      connected: total('connected'),
      disconnects: total('disconnects'),
      resyncs: total('resyncs'),
      outOfOrder: total('outOfOrder'),
      delivered: total('delivered'),
      reached: total('reached'),
      waitedMs: Math.max(...reports.map((report) => report.waitedMs)),
      delays: [],
      delayHistogram,
    }
  }

  /** Terminal task events' delays over every process; "first" is per event the earliest of any process. */
  async immediate(): Promise<{ disconnects: number; all: Distribution; first: Distribution }> {
    const details = await Promise.all(this.children.map((child) => child.caller.call('immediate', null)))
    const all = new Histogram()
    const earliest = new Map<number, number>()
    for (const detail of details) {
      all.addSparse(detail.delays)
      for (const [seq, delay] of detail.first) earliest.set(seq, Math.min(delay, earliest.get(seq) ?? Infinity))
    }
    const first = new Histogram()
    for (const delay of earliest.values()) first.record(delay)
    return { disconnects: sum(details.map((detail) => detail.disconnects)), all: all.summary(), first: first.summary() }
  }

  async converge(request: ConvergeRequest): Promise<ConvergeReport> {
    const reports = await Promise.all(
      this.children.map((child) => child.caller.call('converge', request, request.timeoutMs + 60_000)),
    )
    return {
      seq: Math.max(...reports.map((report) => report.seq)),
      clients: sum(reports.map((report) => report.clients)),
      reachedSeq: sum(reports.map((report) => report.reachedSeq)),
      minLastSeq: Math.min(...reports.map((report) => report.minLastSeq)),
      stateEqual: sum(reports.map((report) => report.stateEqual)),
      mismatches: reports.flatMap((report) => report.mismatches).slice(0, 5),
      waitedMs: Math.max(...reports.map((report) => report.waitedMs)),
    }
  }

  async sample(): Promise<ProcessSample[]> {
    return Promise.all(this.children.map((child) => child.caller.call('sample', null)))
  }

  /** Measures the client processes over a stretch: call, do the work, call the answer. */
  async meter(): Promise<() => Promise<ClientLoad>> {
    const before = await this.sample()
    return async () => {
      const after = await this.sample()
      const cpuPct = after.map((sample, i) =>
        Math.round(((sample.cpuMs - before[i]!.cpuMs) / Math.max(1, sample.at - before[i]!.at)) * 100),
      )
      const loopDelayP99Ms = Math.max(...after.map((sample) => sample.loopDelayP99Ms))
      const busiest = Math.max(...cpuPct)
      const limit =
        busiest >= BUSY_PCT
          ? `a client process at ${busiest} % of a core`
          : loopDelayP99Ms >= LATE_LOOP_MS
            ? `client event loop p99 ${Math.round(loopDelayP99Ms)} ms late`
            : null
      return { cpuPct, loopDelayP99Ms: Math.round(loopDelayP99Ms * 10) / 10, limit }
    }
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.children.map((child) => child.caller.call('disconnect', null, 120_000)))
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => child.stop('disconnect')))
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0)
}
