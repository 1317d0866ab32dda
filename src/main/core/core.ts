/**
 * The core: coordinator, event pipeline, HTTP + Socket.IO server. Runs under
 * plain Node; the Electron shell and the headless CLI are both thin layers
 * over `createCore(config)`.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { ConfigError, type Config } from './config/config'
import { dataDirExposure } from './config/data-dir'
import { lockDataDir, type DataDirLock } from './config/data-dir-lock'
import { endLeftovers, logLeftovers } from './agents/leftovers'
import { DEFAULT_KILL_GRACE_MS } from './agents/local-agent'
import { ProcessRegistry } from './agents/process-registry'
import { StartError } from './start-error'
import { loadTokens, rotateTokens, tokensFromEnv, type Tokens } from './auth/tokens'
import { LocalAgents, localAgentSpecs } from './agents/local-agents'
import { Coordinator } from './coordinator/coordinator'
import { DemoSwarm } from './demo/demo-swarm'
import { parseDatabaseUrl } from './config/database-url'
import { HistoryOpenError, type TaskHistory } from './storage/history'
import { createHistory } from './storage/open-history'
import { loadSwarmFile, type SwarmFile } from './swarm-file'
import { enqueueSwarmTasks, planSwarmTasks } from './swarm-tasks'
import { createLogger, type Logger } from './logger'
import { MetricsSampler } from './metrics/sampler'
import { AlertEngine } from './alerts/engine'
import { swarmSources } from './alerts/sources'
import { Batcher, type Windows } from './pipeline/batcher'
import { EventLog } from './pipeline/event-log'
import { Fanout } from './pipeline/fanout'
import { PipelineMetrics } from './pipeline/pipeline-metrics'
import { registerDashboard, type DashboardNamespace } from './server/dashboard.handlers'
import { buildSnapshot } from './server/snapshot'
import { createHttpServer } from './server/http'
import { resolveLimits, type Limits } from './server/limits'
import { LoopLag } from './server/loop-lag'
import { addSecurityHeaders } from './server/edge'
import { securityHeaders } from './server/headers'
import { closeServer, trackConnections } from './server/shutdown'
import { createSocketServer } from './server/socket-server'
import { AGENTS_NAMESPACE, DASHBOARD_NAMESPACE } from '../../shared/protocol'
import type { RoutingPolicy } from '../../shared/routing'
import { RemoteAgents } from './agents/remote-agents'
import { registerAgents, type AgentsNamespace } from './server/agents.handlers'

export interface CoreOptions {
  /** Print log lines to the console (the file log is always written). Default true. */
  console?: boolean
  /** Environment to read tokens from; default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Batch windows per channel, ms (default agents 200, tasks 200, metrics 500, logs 1000, alerts 200). */
  windows?: Partial<Windows>
  /** Events kept for replay to reconnecting viewers (default 10,000). */
  replayBuffer?: number
  /** Demo pace multiplier for durations (tests use less than 1). */
  demoSpeed?: number
  /** Silence after which a remote agent is offline and its tasks requeued; overrides `--heartbeat-timeout` (tests use less than its floor). */
  agentHeartbeatTimeoutMs?: number
  /** How long an offline remote agent stays listed before it is removed (default 10 min). */
  agentOfflineGraceMs?: number
  /** Message size, nesting and rate limits (defaults in server/limits.ts; docs/security.md). */
  limits?: Partial<Limits>
  /** The SQLite addon to load instead of better-sqlite3's own build (see SqliteOptions.nativeBinding). */
  sqliteBinding?: string
}

export interface Core {
  start(): Promise<void>
  stop(): Promise<void>
  /** `http(s)://host:port`, known after `start()`. */
  readonly url: string
  readonly tokens: Tokens
  readonly logger: Logger
  readonly coordinator: Coordinator
  /** Prometheus registry behind `GET /metrics`. */
  readonly metrics: PipelineMetrics
}

const PRUNE_INTERVAL_MS = 10 * 60_000

export { StartError }

/** The tokens; a damaged tokens file or clashing token variables are a configuration error (exit 2), said plainly. */
function readTokens(dataDir: string, env: NodeJS.ProcessEnv, closeLog: () => Promise<void>): Tokens {
  try {
    return loadTokens(dataDir, env)
  } catch (error) {
    void closeLog()
    throw new ConfigError((error as Error).message)
  }
}

/** The task history `--database` names (nothing is opened yet: `openHistory` does that at start). */
function historyFor(config: Config, coordinator: Coordinator, logger: Logger, sqliteBinding?: string): TaskHistory {
  const parsed = parseDatabaseUrl(config.database, config.dataDir)
  // loadConfig has checked it already; a Config built by hand may not have been.
  if (!parsed.ok) throw new ConfigError(parsed.message)
  return createHistory(parsed.target, {
    retention: { maxTasks: config.retentionTasks, maxAgeMs: config.retentionDays * 24 * 3600 * 1000 },
    // The server's own pretend work (the demo swarm's tasks), as its code marked it at submit.
    ephemeral: (task) => coordinator.isEphemeral(task.id),
    sqliteBinding,
    logger,
  })
}

/** Opens the history; one that cannot be opened (unreachable, refused, newer, a bad addon) is a StartError. */
async function openHistory(history: TaskHistory, logger: Logger): Promise<void> {
  try {
    const opened = await history.open()
    if (opened.migratedFrom !== opened.schemaVersion) {
      logger.info(
        { database: opened.database, from: opened.migratedFrom, to: opened.schemaVersion },
        'history database schema brought up to date',
      )
    }
  } catch (error) {
    if (error instanceof HistoryOpenError) throw new StartError(error.message, error.exitCode)
    throw error
  }
}

export function createCore(config: Config, options: CoreOptions = {}): Core {
  // Read before anything else: an invalid swarm file throws a SwarmFileError (a ConfigError) and nothing starts.
  const swarm = config.swarm ? loadSwarmFile(config.swarm) : null
  // Then the data dir, before anything in it is read or written: a second server on it stops here.
  const lock = lockDataDir(config.dataDir)
  try {
    return assembleCore(config, options, swarm, lock)
  } catch (error) {
    lock.release()
    throw error
  }
}

function assembleCore(config: Config, options: CoreOptions, swarm: SwarmFile | null, lock: DataDirLock): Core {
  const startedAt = Date.now()
  const { logger, close: closeLog } = createLogger(config, { console: options.console })
  if (lock.tookOver) logger.info({ previous: lock.tookOver }, 'data dir lock taken over from a server that is gone')
  const exposure = dataDirExposure(config.dataDir)
  if (exposure) logger.warn({ dataDir: config.dataDir }, exposure)
  const limits = resolveLimits(options.limits)
  if (config.rotateTokens) {
    const file = rotateTokens(config.dataDir)
    const fixed = tokensFromEnv(options.env ?? process.env)
    logger.warn(
      { file, unchanged: fixed.length > 0 ? fixed : undefined },
      fixed.length > 0
        ? `tokens rotated: new tokens written to ${file}, the old ones no longer work; the ${fixed.join(', ')} token(s) come from the environment and were not rotated`
        : `tokens rotated: new tokens written to ${file}, the old ones no longer work`,
    )
  }
  const tokens = readTokens(config.dataDir, options.env ?? process.env, closeLog)
  const log = new EventLog(options.replayBuffer)
  const routing: RoutingPolicy = { remoteShellAgents: config.allowRemoteShellAgents }
  const coordinator = new Coordinator({
    emit: (event) => log.append(event),
    routing,
    driverFailed: (error, context) => logger.error({ err: error, ...context }, 'an agent driver failed'),
  })
  const history = historyFor(config, coordinator, logger, options.sqliteBinding)
  const unsubscribeHistory = log.subscribe((event) => history.record(event))
  const sampler = new MetricsSampler(coordinator, { emit: (event) => log.append(event) })
  const unsubscribeSampler = log.subscribe((event) => sampler.observe(event))
  const alerts = new AlertEngine(swarmSources(coordinator, sampler, history), {
    emit: (event) => log.append(event),
    settings: {
      errorRateWarning: config.alertErrorWarning,
      errorRateCritical: config.alertErrorCritical,
      backlogMinGrowth: config.alertBacklogGrowth,
      stuckAfterMs: config.alertStuckAfter * 60_000,
    },
  })
  const state = { coordinator, sampler, log, history, alerts }
  // `fanout` exists once the Socket.IO server does; the metrics read it lazily.
  let fanout: Fanout | null = null
  const metrics = new PipelineMetrics(
    () => fanout?.lag() ?? { connected: 0, lagging: 0, maxQueuedBytes: 0 },
    coordinator,
  )
  const demo = config.demo
    ? new DemoSwarm(coordinator, { agents: config.demoAgents, rate: config.demoRate, speed: options.demoSpeed })
    : null
  const processes = new ProcessRegistry(config.dataDir)
  const localAgents = new LocalAgents(coordinator, localAgentSpecs(config.localAgents, swarm?.agents), {
    registry: processes,
    logger,
  })

  const secure = config.tlsCert !== null
  const headers = securityHeaders(secure)
  let stopping = false
  const http = createHttpServer({
    state,
    tokens,
    logger,
    rendererDir: config.rendererDir,
    allowRemoteShell: config.allowRemoteShell,
    startedAt,
    metrics: metrics.registry,
    allowOrigin: config.allowOrigin,
    limits,
    rateLimited: () => metrics.rateLimited.inc({ via: 'http' }),
    securityHeaders: headers,
    ...(secure ? { https: { cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) } } : {}),
  })
  const connections = trackConnections(http.server)

  const { io } = createSocketServer(http.server, {
    limits,
    logger,
    allowOrigin: config.allowOrigin,
    secure,
    wsCompression: config.wsCompression,
    stopping: () => stopping,
    sessionRefused: () => metrics.rateLimited.inc({ via: 'handshake' }),
    bytesSent: (bytes) => metrics.bytesSent.inc(bytes),
  })
  // After Socket.IO is attached, so that they come before Engine.IO's handler (see edge.ts).
  addSecurityHeaders(http.server, headers)
  // One server, one typed event map per namespace (socket.io types the Server with a single map).
  const dashboard = io.of(DASHBOARD_NAMESPACE) as unknown as DashboardNamespace
  const batcher = new Batcher({
    windows: options.windows,
    coalesced: () => metrics.coalesced.inc(),
    send: (events) => {
      metrics.batchSize.observe(events.length)
      fanout!.send(events)
    },
  })
  fanout = new Fanout(dashboard, {
    limits,
    snapshot: () => {
      batcher.flush()
      return buildSnapshot(state)
    },
    delivered: (count) => metrics.eventsOut.inc(count),
    resynced: (count) => {
      metrics.resyncs.inc(count)
      logger.info({ viewers: count }, 'viewers behind or widening their subscription: resynced with a snapshot')
    },
    dropped: (socket, reason, queued) => {
      metrics.viewersDropped.inc({ reason })
      logger.warn(
        { id: socket.id, address: socket.handshake.address, reason, queuedBytes: queued },
        reason === 'memory'
          ? 'viewer disconnected: all viewers together had too much waiting for them, this one the most'
          : `viewer disconnected: ${queued} bytes waiting for it did not ${reason === 'stalled' ? 'shrink' : 'drain'} in time`,
      )
    },
  })
  const unsubscribe = log.subscribe((event) => {
    metrics.eventsIn.inc()
    batcher.push(event)
  })
  // The rate limit credits the loop's own lateness, so nobody is refused for the server's backlog.
  const loopLag = new LoopLag()
  const lagMs = () => loopLag.recentMs()
  const counters = {
    unknownEvent: (namespace: string) => metrics.unknownEvents.inc({ namespace }),
    rateLimited: (namespace: string) => metrics.rateLimited.inc({ via: namespace }),
  }
  registerDashboard(dashboard, {
    state,
    batcher,
    fanout,
    tokens,
    logger,
    allowRemoteShell: config.allowRemoteShell,
    instance: randomUUID(),
    limits,
    caps: { total: config.maxViewers, perToken: config.maxViewersPerToken },
    counters,
    refused: (cap) => metrics.viewersRefused.inc({ cap }),
    lagMs,
    routing,
  })
  const remote = new RemoteAgents(coordinator, {
    logger,
    heartbeatTimeoutMs: options.agentHeartbeatTimeoutMs ?? config.heartbeatTimeout * 1000,
    offlineGraceMs: options.agentOfflineGraceMs,
  })
  registerAgents(io.of(AGENTS_NAMESPACE) as unknown as AgentsNamespace, {
    coordinator,
    remote,
    tokens,
    logger,
    limits,
    counters,
    lagMs,
  })

  let url = ''
  let started = false
  let pruneTimer: NodeJS.Timeout | null = null

  return {
    tokens,
    logger,
    coordinator,
    metrics,
    get url() {
      if (!url) throw new Error('the core has not started yet')
      return url
    },

    async start() {
      // A previous server's commands that still run end before their tasks can be dispatched again.
      logLeftovers(await endLeftovers(processes, DEFAULT_KILL_GRACE_MS), logger)
      // History first, so the first viewer's snapshot already holds it.
      await openHistory(history, logger)
      const stored = await history.restore()
      for (const { id, problem } of stored.invalid) {
        logger.warn({ taskId: id, problem }, 'a stored task could not be read: left in the database, not restored')
      }
      const restored = coordinator.restore(stored.tasks)
      // Decided against the history as it was at start: a swarm file task it holds is not enqueued again.
      const storedIds = new Set([...stored.tasks, ...stored.invalid].map((task) => task.id))
      const swarmTasks = swarm && config.swarm ? planSwarmTasks(config.swarm, swarm.tasks, storedIds) : null
      if (restored.requeued + restored.finished > 0) logger.info(restored, 'tasks restored from the history database')
      const pruned = await history.prune()
      if (pruned > 0) logger.info({ pruned }, 'history retention applied')
      try {
        await http.listen({ host: config.host, port: config.port })
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        await closeLog()
        if (code === 'EADDRINUSE') throw new StartError(`port ${config.port} is already in use on ${config.host}`)
        if (code === 'EADDRNOTAVAIL') throw new StartError(`cannot bind ${config.host}: no such local address`)
        if (code === 'EACCES') throw new StartError(`no permission to listen on ${config.host}:${config.port}`)
        throw error
      }
      started = true
      const address = http.server.address() as AddressInfo
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      url = `${secure ? 'https' : 'http'}://${host}:${address.port}`
      pruneTimer = setInterval(() => {
        history.prune().catch((error: unknown) => {
          logger.warn({ err: error }, 'history retention not applied this time; it runs again in 10 min')
        })
      }, PRUNE_INTERVAL_MS)
      pruneTimer.unref()
      remote.start()
      loopLag.start()
      sampler.start()
      alerts.start()
      localAgents.start()
      demo?.start()
      // After listening succeeded (a start that fails enqueues nothing), and once this server's agents are there.
      if (swarmTasks) enqueueSwarmTasks(swarmTasks, { coordinator, logger, routing })
      logger.info(
        { url, dataDir: config.dataDir, demo: demo !== null, localAgents: localAgents.size, swarm: config.swarm },
        'server started',
      )
      if (!isLoopbackHost(config.host) && !secure) {
        logger.warn(
          { host: config.host },
          'listening beyond this machine without TLS: tokens and data cross the network in clear text (use --tls-cert/--tls-key or a TLS proxy)',
        )
      }
    },

    async stop() {
      demo?.stop()
      await localAgents.stop()
      sampler.stop()
      alerts.stop()
      unsubscribeSampler()
      coordinator.stop()
      fanout.stop()
      batcher.stop()
      unsubscribe()
      if (pruneTimer) clearInterval(pruneTimer)
      loopLag.stop()
      if (started) {
        remote.stop()
        stopping = true
        // Bounded whatever the clients do: what is still open after a short grace is cut (shutdown.ts).
        await closeServer(io, connections)
        await http.close()
        started = false
        logger.info('stopped')
      }
      unsubscribeHistory()
      await history.close()
      await closeLog()
      lock.release()
    },
  }
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}
