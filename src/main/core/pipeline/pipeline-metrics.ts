/**
 * The pipeline's own figures, for `GET /metrics` (Prometheus text format).
 * One registry per core, so several cores in one process (tests) do not mix.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Coordinator } from '../coordinator/coordinator'

export interface LagStats {
  connected: number
  lagging: number
  /** Bytes waiting in this process for the viewer furthest behind. */
  maxQueuedBytes: number
}

export class PipelineMetrics {
  readonly registry = new Registry()
  readonly eventsIn = new Counter({
    name: 'swarm_events_total',
    help: 'Domain events into the pipeline',
    registers: [this.registry],
  })
  readonly eventsOut = new Counter({
    name: 'swarm_events_delivered_total',
    help: 'Events handed to viewers (an event sent to N viewers counts N)',
    registers: [this.registry],
  })
  readonly coalesced = new Counter({
    name: 'swarm_events_coalesced_total',
    help: 'Events replaced by a newer state of the same agent or task before they left',
    registers: [this.registry],
  })
  readonly batchSize = new Histogram({
    name: 'swarm_batch_size',
    help: 'Events per batch sent',
    buckets: [1, 2, 5, 10, 20, 50, 100],
    registers: [this.registry],
  })
  readonly bytesSent = new Counter({
    name: 'swarm_bytes_sent_total',
    help: 'Bytes of Socket.IO packets sent to viewers and agents',
    registers: [this.registry],
  })
  readonly deflated = new Counter({
    name: 'swarm_deflated_messages_total',
    help: 'Batches and snapshots compressed for deflate-raw viewers: once per room, however many viewers are in it (and once per replay)',
    registers: [this.registry],
  })
  readonly deflatedBytes = new Counter({
    name: 'swarm_deflated_bytes_total',
    help: 'Bytes of those messages: their JSON (form="json") and what it was compressed to (form="deflate-raw")',
    labelNames: ['form'],
    registers: [this.registry],
  })
  readonly resyncs = new Counter({
    name: 'swarm_client_resyncs_total',
    help: 'Snapshots sent to viewers that fell too far behind or widened their subscription',
    registers: [this.registry],
  })
  readonly viewersDropped = new Counter({
    name: 'swarm_viewers_dropped_total',
    help: 'Viewers disconnected for their backlog: stalled (not reading), overdue (not drained in time), memory (all viewers over the total)',
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly viewersRefused = new Counter({
    name: 'swarm_viewers_refused_total',
    help: 'Viewer connections refused by the caps: per token, or in total',
    labelNames: ['cap'],
    registers: [this.registry],
  })
  readonly unknownEvents = new Counter({
    name: 'swarm_unknown_events_total',
    help: 'Socket.IO messages with an event name the namespace does not handle, ignored',
    labelNames: ['namespace'],
    registers: [this.registry],
  })
  readonly rateLimited = new Counter({
    name: 'swarm_rate_limited_total',
    help: 'Messages and requests refused by the rate limits, by where they came in',
    labelNames: ['via'],
    registers: [this.registry],
  })

  constructor(lag: () => LagStats, coordinator: Coordinator) {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 })
    const registers = [this.registry]
    new Gauge({
      name: 'swarm_clients_connected',
      help: 'Viewers connected to /dashboard',
      registers,
      collect() {
        this.set(lag().connected)
      },
    })
    new Gauge({
      name: 'swarm_clients_lagging',
      help: 'Viewers held back for falling behind, waiting for a snapshot',
      registers,
      collect() {
        this.set(lag().lagging)
      },
    })
    new Gauge({
      name: 'swarm_client_queued_bytes_max',
      help: 'Bytes waiting in this process for the viewer furthest behind',
      registers,
      collect() {
        this.set(lag().maxQueuedBytes)
      },
    })
    new Gauge({
      name: 'swarm_agents',
      help: 'Agents by status',
      labelNames: ['status'],
      registers,
      collect() {
        for (const [status, count] of Object.entries(coordinator.counts().agents)) this.set({ status }, count)
      },
    })
    new Gauge({
      name: 'swarm_tasks_queued',
      help: 'Tasks waiting for an agent',
      registers,
      collect() {
        this.set(coordinator.counts().queued)
      },
    })
    new Gauge({
      name: 'swarm_tasks_running',
      help: 'Tasks assigned or running',
      registers,
      collect() {
        this.set(coordinator.counts().running)
      },
    })
    new Gauge({
      name: 'swarm_tasks_finished',
      help: 'Tasks finished since start, by outcome',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.set({ outcome: 'succeeded' }, coordinator.totals.succeeded)
        this.set({ outcome: 'failed' }, coordinator.totals.failed)
      },
    })
  }
}
