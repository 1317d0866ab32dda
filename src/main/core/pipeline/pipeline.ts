/**
 * The route of every event, in one place. The coordinator, the metrics
 * sampler and the alerts engine announce changes with whole states; each is
 * recorded in the task history and observed by the sampler as it is; then
 * slimmed to what viewers need (`slim.ts`: what changed, or the entity whole
 * when a viewer may not hold it); the event log numbers that (`seq`) and
 * keeps the recent ones for replay; it is counted and batched for the
 * viewers; each batch is counted and handed to the fanout, which sends it to
 * the viewers through the server's rooms:
 *
 *   coordinator, sampler, alerts ─┬─► history.record      (whole states)
 *                                 ├─► sampler.observe
 *                                 └─► slim ─► log ─► batcher ─► fanout ─► viewers
 *
 * Snapshots take the same road back: the fanout asks for one, the batcher
 * flushes first, so a snapshot covers exactly the events sent before it.
 */
import type { SwarmChange } from '../../../shared/events'
import type { Snapshot } from '../../../shared/protocol'
import type { RoutingPolicy } from '../../../shared/routing'
import { AlertEngine } from '../alerts/engine'
import type { AlertSettings } from '../alerts/rules'
import { swarmSources } from '../alerts/sources'
import type { DatabaseTarget } from '../config/database-url'
import { Coordinator } from '../coordinator/coordinator'
import type { Logger } from '../logger'
import { MetricsHistory } from '../metrics/metric-history'
import { MetricsSampler } from '../metrics/sampler'
import { AuditTrail, type AuditRetention } from '../storage/audit-trail'
import type { RetentionPolicy } from '../storage/history'
import { createStorage } from '../storage/open-history'
import type { OperatorStore } from '../storage/operator-store'
import { KindControl } from './kind-control'
import { Batcher, type Windows } from './batcher'
import { EventLog } from './event-log'
import { Fanout, type DropReason } from './fanout'
import { keepPruning, openHistory, restoreTasks } from './history-lifecycle'
import { PipelineMetrics } from './pipeline-metrics'
import { Slimmer } from './slim'
import { buildSnapshot, type SwarmState } from './snapshot'
import type { FanoutLimits, ViewerRooms } from './viewers'

export interface PipelineOptions {
  logger: Logger
  /** Which agents may run which tasks beyond their kinds and capabilities (`--allow-remote-shell-agents`). */
  routing: RoutingPolicy
  /** Where tasks are stored (`--database`) and for how long (`--retention-*`). */
  history: { target: DatabaseTarget; retention: RetentionPolicy; sqliteBinding?: string }
  /** How long the audit trail keeps its entries (`--audit-retention-*`). */
  audit: AuditRetention
  /** The alert thresholds (`--alert-*`); defaults in alerts/rules.ts. */
  alerts: Partial<AlertSettings>
  /** The viewers, as the server lets the pipeline reach them (its `/dashboard` namespace). */
  viewers: ViewerRooms
  limits: FanoutLimits
  /** Batch windows per channel, ms (default agents 200, tasks 200, metrics 500, logs 1000, alerts 200). */
  windows?: Partial<Windows>
  /** Events kept for replay to reconnecting viewers (default 10,000). */
  replayBuffer?: number
  /** How long a restored task waits for the agent that ran it (the agents' heartbeat timeout; reclaims.ts). */
  reclaimGraceMs?: number
}

export interface Pipeline {
  /**
   * What the server reads and commands: the coordinator, the log, the history and the figures around them; the
   * schedules once the server has made them (`state.schedules = book`), for snapshots to list them.
   */
  readonly state: Required<Omit<SwarmState, 'schedules'>> & Pick<SwarmState, 'schedules'>
  /** Announces a change made beside the coordinator (a schedule's): recorded, slimmed and sent like the others. */
  announce(change: SwarmChange): void
  readonly batcher: Batcher
  readonly fanout: Fanout
  /** The Prometheus registry behind `GET /metrics`, with the server's counters. */
  readonly metrics: PipelineMetrics
  /** The operator's records beside the history: the audit trail, saved views, long metric ranges. */
  readonly operator: OperatorRecords
  /**
   * Opens the history and puts its tasks back into the coordinator (a database that cannot be opened is a
   * StartError); resolves with the ids it held at start. `open` then `takeOver`.
   */
  restore(): Promise<ReadonlySet<string>>
  /** Opens the history and the operator's records beside it, without taking its tasks (a cluster follower). */
  open(): Promise<void>
  /** Puts the open history's tasks and per-kind limits into the coordinator (at start, or on becoming leader). */
  takeOver(): Promise<ReadonlySet<string>>
  /** The whole state viewers are sent: this process's, or the copy it follows. */
  snapshot(): Snapshot
  /** Viewers are sent this copy's snapshots from now on (a cluster follower: cluster/replica.ts). */
  follow(copy: SnapshotSource): void
  /** Viewers are sent this process's own state again (a follower became the leader). */
  lead(): void
  /** Starts sampling, the alert rules and the history's retention (once the server listens). */
  start(): void
  /** Ends sampling, the alerts, the coordinator's timers and the delivery to viewers. */
  stop(): void
  /** Stops recording and closes the history: last, once nothing can submit or change a task any more. */
  close(): Promise<void>
}

export interface SnapshotSource {
  snapshot(): Snapshot
}

export interface OperatorRecords {
  audit: AuditTrail
  /** Saved views are read and written straight through the store. */
  store: OperatorStore
  metrics: MetricsHistory
  /** Per-kind limits, stored and applied (kind-control.ts). */
  kinds: KindControl
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { logger } = options
  const log = new EventLog(options.replayBuffer)
  const slim = new Slimmer()
  /** Who reads the whole states: the history and the sampler. */
  const readers = new Set<(change: SwarmChange) => void>()
  const emit = (change: SwarmChange): void => {
    for (const read of readers) read(change)
    const event = slim.project(change)
    if (event) log.append(event)
  }
  const read = (reader: (change: SwarmChange) => void): (() => void) => {
    readers.add(reader)
    return () => readers.delete(reader)
  }
  const coordinator = new Coordinator({
    emit,
    routing: options.routing,
    reclaimGraceMs: options.reclaimGraceMs,
    driverFailed: (error, context) => logger.error({ err: error, ...context }, 'an agent driver failed'),
  })
  const { history, operator: store } = createStorage(options.history.target, {
    retention: options.history.retention,
    // The server's own pretend work (the demo swarm's tasks), as its code marked it at submit.
    ephemeral: (task) => coordinator.isEphemeral(task.id),
    sqliteBinding: options.history.sqliteBinding,
    logger,
  })
  // The audit's lines are written at info even when the log level is higher (warn, error); `silent` silences them.
  const auditLogger =
    logger.levelVal > logger.levels.values.info! && logger.level !== 'silent'
      ? logger.child({}, { level: 'info' })
      : logger
  const audit = new AuditTrail(store, { logger: auditLogger, retention: options.audit })
  const metricsHistory = new MetricsHistory(store, { logger })
  const kinds = new KindControl(coordinator, store)
  const sampler = new MetricsSampler(coordinator, { emit, onSample: (sample) => metricsHistory.add(sample) })
  const alerts = new AlertEngine(swarmSources(coordinator, sampler, history), { emit, settings: options.alerts })
  const state: Pipeline['state'] = { coordinator, sampler, log, history, alerts }

  const metrics = new PipelineMetrics(() => fanout.lag(), coordinator)
  const batcher = new Batcher({
    windows: options.windows,
    coalesced: () => metrics.coalesced.inc(),
    send: (events) => {
      metrics.batchSize.observe(events.length)
      fanout.send(events)
    },
  })
  /** A cluster follower's copy of the leader's swarm (cluster/replica.ts); null: this process's own. */
  let replica: SnapshotSource | null = null
  const snapshot = (): Snapshot => (replica ? replica.snapshot() : buildSnapshot(state))
  const fanout = new Fanout(options.viewers, {
    limits: options.limits,
    snapshot: () => {
      batcher.flush()
      return snapshot()
    },
    delivered: (count) => metrics.eventsOut.inc(count),
    resynced: (count) => {
      metrics.resyncs.inc(count)
      logger.info({ viewers: count }, 'viewers behind or widening their subscription: resynced with a snapshot')
    },
    dropped: (viewer, reason, queued) => {
      metrics.viewersDropped.inc({ reason })
      logger.warn({ id: viewer.id, address: viewer.address, reason, queuedBytes: queued }, dropMessage(reason, queued))
    },
  })

  const unsubscribeHistory = read((change) => history.record(change))
  const unsubscribeSampler = read((change) => sampler.observe(change))
  const unsubscribeViewers = log.subscribe((event) => {
    metrics.eventsIn.inc()
    batcher.push(event)
  })

  const open = async (): Promise<void> => {
    await openHistory(history, logger)
    // The operator's tables came with the history's schema: usable from here on.
    audit.start()
    metricsHistory.start()
    const pruned = await audit.prune().catch(() => 0)
    if (pruned > 0) logger.info({ pruned }, 'audit retention applied')
  }
  const takeOver = async (): Promise<ReadonlySet<string>> => {
    const ids = await restoreTasks(history, coordinator, logger)
    // Before any agent can join: a kind paused before the restart sends nothing after it.
    const limited = await kinds.load()
    if (limited > 0) logger.info({ kinds: limited }, 'per-kind limits restored')
    return ids
  }

  let stopPruning = (): void => {}
  let stopAuditPruning = (): void => {}
  return {
    state,
    announce: emit,
    batcher,
    fanout,
    metrics,
    operator: { audit, store, metrics: metricsHistory, kinds },
    async restore() {
      await open()
      return takeOver()
    },
    open,
    takeOver,
    snapshot,
    follow(copy) {
      replica = copy
    },
    lead() {
      replica = null
    },
    start() {
      stopPruning = keepPruning(history, logger)
      stopAuditPruning = keepPruning(audit, logger, 'audit')
      sampler.start()
      alerts.start()
    },
    stop() {
      sampler.stop()
      alerts.stop()
      unsubscribeSampler()
      coordinator.stop()
      fanout.stop()
      batcher.stop()
      unsubscribeViewers()
      stopPruning()
      stopAuditPruning()
    },
    async close() {
      unsubscribeHistory()
      // Into the database while it is still open: what the last requests recorded, the minute under way.
      await audit.close()
      await metricsHistory.close()
      await history.close()
    },
  }
}

function dropMessage(reason: DropReason, queued: number): string {
  return reason === 'memory'
    ? 'viewer disconnected: all viewers together had too much waiting for them, this one the most'
    : `viewer disconnected: ${queued} bytes waiting for it did not ${reason === 'stalled' ? 'shrink' : 'drain'} in time`
}
