/**
 * The core: coordinator, event pipeline, HTTP + Socket.IO server. Runs under
 * plain Node; the Electron shell and the headless CLI are both thin layers
 * over `createCore(config)`.
 */
import { readFileSync } from 'node:fs'
import { AGENTS_NAMESPACE, DASHBOARD_NAMESPACE } from '../../shared/protocol'
import type { RoutingPolicy } from '../../shared/routing'
import { endLeftovers, logLeftovers } from './agents/leftovers'
import { DEFAULT_KILL_GRACE_MS } from './agents/local-agent'
import { LocalAgents, localAgentSpecs } from './agents/local-agents'
import { ProcessRegistry } from './agents/process-registry'
import { RemoteAgents } from './agents/remote-agents'
import { AccessTokens } from './auth/access'
import { startTokens, type Tokens } from './auth/tokens'
import { ClusterNode } from './cluster/cluster-node'
import { registerClusterMetrics } from './cluster/cluster-metrics'
import { lagBehindLeader, type Membership } from './cluster/membership'
import type { Config } from './config/config'
import { dataDirExposure } from './config/data-dir'
import { lockDataDir, type DataDirLock } from './config/data-dir-lock'
import { parseDatabaseUrl } from './config/database-url'
import { loadSwarmFile, type SwarmFile } from './config/swarm-file'
import type { Coordinator } from './coordinator/coordinator'
import { DemoSwarm } from './demo/demo-swarm'
import { createLogger, type Logger } from './logger'
import type { Windows } from './pipeline/batcher'
import { createPipeline } from './pipeline/pipeline'
import type { PipelineMetrics } from './pipeline/pipeline-metrics'
import { registerAgents, type AgentsNamespace } from './server/agents.handlers'
import { registerDashboard } from './server/dashboard.handlers'
import { addSecurityHeaders } from './server/edge'
import { securityHeaders } from './server/headers'
import { createHttpServer } from './server/http'
import { resolveLimits, type Limits } from './server/limits'
import { listen, warnIfClearText } from './server/listen'
import { planSwarm, startSwarm, type SwarmPlan } from './agents/swarm-workflows'
import { LoopLag } from './server/loop-lag'
import { closeServer, trackConnections } from './server/shutdown'
import { createSocketServer } from './server/socket-server'
import { ViewerEncoder } from './server/viewer-encoding'
import { viewerRooms, type DashboardNamespace } from './server/viewer-transport'
import { ConfigError, StartError } from './start-error'
import { ScheduleBook } from './schedules/schedule-book'
import { coordinatorRunner } from './server/schedule-runner'

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
  /** Share of demo tasks that fail (default 0.08); a test that needs every run to succeed passes 0. */
  demoFailureRate?: number
  /** Silence after which a remote agent is offline and its tasks requeued; overrides `--heartbeat-timeout` (tests use less than its floor). */
  agentHeartbeatTimeoutMs?: number
  /** How long an offline remote agent stays listed before it is removed (default 10 min). */
  agentOfflineGraceMs?: number
  /** Message size, nesting and rate limits (defaults in server/limits.ts; docs/security.md). */
  limits?: Partial<Limits>
  /** The schedules' clock (epoch ms); tests move it to cross run times and restarts. Default `Date.now`. */
  scheduleClock?: () => number
  /** The SQLite addon to load instead of better-sqlite3's own build (see SqliteOptions.nativeBinding). */
  sqliteBinding?: string
  /**
   * A cluster leader lost its leadership (docs/cluster.md): it must not go on. Default: the core stops; the CLI
   * also exits (status 3) so that its supervisor starts it again, as a follower.
   */
  deposed?: (reason: string) => void
}

export interface Core {
  start(): Promise<void>
  stop(): Promise<void>
  /** `http(s)://host:port`, known after `start()`. */
  readonly url: string
  /** The three generated tokens (the environment's where it fixes them). */
  readonly tokens: Tokens
  /** Every token the server accepts, named ones included, as it reloads them (auth/access.ts). */
  readonly access: AccessTokens
  readonly logger: Logger
  readonly coordinator: Coordinator
  /** Prometheus registry behind `GET /metrics`. */
  readonly metrics: PipelineMetrics
  /** Who this node is, who leads and the epoch (a single node unless `--redis`; docs/cluster.md). */
  readonly cluster: Membership
}

export { StartError }

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
  let tokens: AccessTokens
  try {
    const env = options.env ?? process.env
    startTokens(config.dataDir, config.rotateTokens, env, logger)
    tokens = new AccessTokens(config.dataDir, { env, logger })
  } catch (error) {
    void closeLog()
    throw error instanceof ConfigError ? error : new ConfigError((error as Error).message)
  }
  const database = parseDatabaseUrl(config.database, config.dataDir)
  // loadConfig has checked it already; a Config built by hand may not have been.
  if (!database.ok) throw new ConfigError(database.message)
  const routing: RoutingPolicy = { remoteShellAgents: config.allowRemoteShellAgents }
  const secure = config.tlsCert !== null
  const heartbeatTimeoutMs = options.agentHeartbeatTimeoutMs ?? config.heartbeatTimeout * 1000
  let stopping = false

  // The Socket.IO server first, unattached: the pipeline delivers to its /dashboard namespace.
  const sockets = createSocketServer({
    limits,
    logger,
    allowOrigin: config.allowOrigin,
    secure,
    wsCompression: config.wsCompression,
    stopping: () => stopping,
    sessionRefused: () => metrics.rateLimited.inc({ via: 'handshake' }),
    bytesSent: (bytes) => metrics.bytesSent.inc(bytes),
  })
  // One server, one typed event map per namespace (socket.io types the Server with a single map).
  const dashboard = sockets.io.of(DASHBOARD_NAMESPACE) as unknown as DashboardNamespace
  const encoder = new ViewerEncoder((json, deflated) => {
    metrics.deflated.inc()
    metrics.deflatedBytes.inc({ form: 'json' }, json)
    metrics.deflatedBytes.inc({ form: 'deflate-raw' }, deflated)
  })
  const pipeline = createPipeline({
    logger,
    routing,
    history: {
      target: database.target,
      retention: { maxTasks: config.retentionTasks, maxAgeMs: config.retentionDays * 24 * 3600 * 1000 },
      sqliteBinding: options.sqliteBinding,
    },
    audit: {
      maxEntries: config.auditRetentionEntries,
      maxAgeMs: config.auditRetentionDays * 24 * 3600 * 1000,
    },
    alerts: {
      errorRateWarning: config.alertErrorWarning,
      errorRateCritical: config.alertErrorCritical,
      backlogMinGrowth: config.alertBacklogGrowth,
      stuckAfterMs: config.alertStuckAfter * 60_000,
    },
    viewers: viewerRooms(dashboard, encoder),
    limits,
    windows: options.windows,
    replayBuffer: options.replayBuffer,
    reclaimGraceMs: heartbeatTimeoutMs,
  })
  const { state, metrics } = pipeline
  const { coordinator } = state
  const demo = config.demo
    ? new DemoSwarm(coordinator, {
        agents: config.demoAgents,
        rate: config.demoRate,
        speed: options.demoSpeed,
        failureRate: options.demoFailureRate,
      })
    : null
  // Its store is the history's, read once the history is open (`start`).
  const schedules = new ScheduleBook({
    store: pipeline.operator.store,
    runner: coordinatorRunner(coordinator, state.history),
    logger,
    now: options.scheduleClock,
    announce: pipeline.announce,
  })
  state.schedules = schedules
  const processes = new ProcessRegistry(config.dataDir)
  const localAgents = new LocalAgents(coordinator, localAgentSpecs(config.localAgents, swarm?.agents), {
    registry: processes,
    logger,
  })

  // Its figures are read once it runs (start), when the server below is listening and `remote` exists.
  const node: ClusterNode = new ClusterNode({
    redis: config.redis,
    database: database.target,
    nodeId: config.nodeId,
    logger,
    load: () => ({
      url: config.advertiseUrl ?? url,
      viewers: pipeline.fanout.connected,
      agents: remote.connected + agentDoor.relayed(),
      seq: state.log.seq,
      lag: lagBehindLeader(cluster, state.log.seq),
    }),
    pipeline: { ...pipeline, log: state.log },
    lead: (storedIds) => startLeading(planFor(storedIds)),
    deposed: (reason) => (options.deposed ? options.deposed(reason) : void core.stop()),
  })
  const cluster: Membership = node.membership
  registerClusterMetrics(metrics.registry, cluster)
  const forwarding = node.clustered ? { nodeId: cluster.nodeId, logger, forwardTo: () => node.forwardTo() } : null

  const headers = securityHeaders(secure)
  const http = createHttpServer({
    state,
    snapshot: pipeline.snapshot,
    tokens,
    logger,
    operator: pipeline.operator,
    rendererDir: config.rendererDir,
    allowRemoteShell: config.allowRemoteShell,
    startedAt,
    metrics: metrics.registry,
    allowOrigin: config.allowOrigin,
    limits,
    rateLimited: () => metrics.rateLimited.inc({ via: 'http' }),
    securityHeaders: headers,
    schedules,
    cluster,
    ...(forwarding ? { forwarding } : {}),
    ...(secure ? { https: { cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) } } : {}),
  })
  const connections = trackConnections(http.server)
  sockets.attach(http.server)
  // After Socket.IO is attached, so that they come before Engine.IO's handler (see edge.ts).
  addSecurityHeaders(http.server, headers)

  // The rate limit credits the loop's own lateness, so nobody is refused for the server's backlog.
  const loopLag = new LoopLag()
  const lagMs = () => loopLag.recentMs()
  const counters = {
    unknownEvent: (namespace: string) => metrics.unknownEvents.inc({ namespace }),
    rateLimited: (namespace: string) => metrics.rateLimited.inc({ via: namespace }),
  }
  registerDashboard(dashboard, {
    state,
    snapshot: pipeline.snapshot,
    batcher: pipeline.batcher,
    fanout: pipeline.fanout,
    tokens,
    logger,
    audit: pipeline.operator.audit,
    kinds: pipeline.operator.kinds,
    allowRemoteShell: config.allowRemoteShell,
    schedules,
    // A cluster's viewers may resume on any node of the same epoch; a single server's on this process only.
    instance: () => node.instance(),
    ...(forwarding ? { forwarding } : {}),
    limits,
    caps: { total: config.maxViewers, perToken: config.maxViewersPerToken },
    counters,
    refused: (cap) => metrics.viewersRefused.inc({ cap }),
    lagMs,
    routing,
    encoder,
    wsCompression: config.wsCompression,
  })
  const remote = new RemoteAgents(coordinator, {
    logger,
    heartbeatTimeoutMs,
    offlineGraceMs: options.agentOfflineGraceMs,
  })
  const agentDoor = registerAgents(sockets.io.of(AGENTS_NAMESPACE) as unknown as AgentsNamespace, {
    coordinator,
    remote,
    tokens,
    logger,
    audit: pipeline.operator.audit,
    limits,
    counters,
    lagMs,
    ...(node.clustered ? { relay: { nodeId: cluster.nodeId, forwardTo: () => node.forwardTo() } } : {}),
  })

  let url = ''
  let started = false
  let schedulesLoaded = false
  /** What only the leader runs (the single server is its own): agents, the coordinator's figures, the demo, schedules. */
  async function startLeading(swarmPlan: SwarmPlan | null): Promise<void> {
    remote.start()
    pipeline.start()
    localAgents.start()
    demo?.start()
    if (!schedulesLoaded) await schedules.load()
    // After the restored tasks and this server's agents: a catch-up run's overlap check sees the previous run.
    void schedules.start()
    // After listening succeeded (a start that fails enqueues nothing), and once this server's agents are there.
    if (swarmPlan) startSwarm(swarmPlan, { coordinator, logger, routing })
  }
  // Decided against the history as it was when taken over: a swarm file task or workflow it holds is not submitted again.
  const planFor = (storedIds: ReadonlySet<string>) =>
    swarm && config.swarm ? planSwarm(config.swarm, swarm, storedIds) : null

  const core: Core = {
    get tokens() {
      return tokens.builtin
    },
    access: tokens,
    logger,
    coordinator,
    metrics,
    cluster,
    get url() {
      if (!url) throw new Error('the core has not started yet')
      return url
    },

    async start() {
      // A previous server's commands that still run end before their tasks can be dispatched again.
      logLeftovers(await endLeftovers(processes, DEFAULT_KILL_GRACE_MS), logger)
      // History first, so the first viewer's snapshot already holds it; a follower takes no tasks from it.
      let swarmPlan: SwarmPlan | null = null
      if (node.clustered) await pipeline.open()
      else {
        swarmPlan = planFor(await pipeline.restore())
        await schedules.load()
        schedulesLoaded = true
      }
      try {
        url = await listen(http, config.host, config.port, secure)
      } catch (error) {
        await closeLog()
        throw error
      }
      // Once listening, so that its first report gives the others its URL (cluster-node.ts).
      await node.start()
      started = true
      tokens.start()
      loopLag.start()
      if (!node.clustered) await startLeading(swarmPlan)
      logger.info(
        { url, dataDir: config.dataDir, demo: demo !== null, localAgents: localAgents.size, swarm: config.swarm },
        'server started',
      )
      warnIfClearText(config.host, secure, logger)
    },

    stop() {
      stopped ??= stopCore()
      return stopped
    },
  }

  let stopped: Promise<void> | null = null
  async function stopCore(): Promise<void> {
    // First: the others see this node gone and one of them takes the lead while this one closes.
    await node.stop()
    tokens.stop()
    schedules.stop()
    demo?.stop()
    await localAgents.stop()
    pipeline.stop()
    loopLag.stop()
    if (started) {
      remote.stop()
      stopping = true
      // Bounded whatever the clients do: what is still open after a short grace is cut (shutdown.ts).
      await closeServer(sockets.io, connections)
      await http.close()
      started = false
      logger.info('stopped')
    }
    // The history last: submissions still being answered while the servers closed are recorded.
    await pipeline.close()
    await closeLog()
    lock.release()
  }

  return core
}
