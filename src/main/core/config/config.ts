/**
 * Configuration: flags, then `SWARM_MONITOR_*` environment variables, then a
 * config file (JSON or YAML), then defaults. Everything ends in one validated
 * `Config` object; bad input throws a `ConfigError` naming what is wrong.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { Command, CommanderError, Option } from 'commander'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { describeIssues } from '../../../shared/commands'
import { defaultNodeId, NODE_ID_PATTERN, NODE_ID_RULE, redisUrlProblem } from './cluster-settings'
import { defaultDataDir } from './data-dir'
import { parseDatabaseUrl } from './database-url'
import { LOG_LEVELS } from '../logger'
import { ConfigError } from '../start-error'
import { VERSION } from '../version'

const ConfigSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    demo: z.boolean(),
    demoAgents: z.number().int().min(0).max(10_000),
    demoRate: z.number().min(0).max(100_000),
    localAgents: z.number().int().min(0).max(1024),
    swarm: z.string().min(1).nullable(),
    dataDir: z.string().min(1),
    database: z.string().min(1).max(2048).nullable(),
    redis: z.string().min(1).max(2048).nullable(),
    nodeId: z.string().regex(NODE_ID_PATTERN, `--node-id takes ${NODE_ID_RULE}`),
    advertiseUrl: z
      .url({ protocol: /^https?$/, error: '--advertise-url takes an http:// or https:// URL' })
      .max(2048)
      .nullable(),
    tlsCert: z.string().min(1).nullable(),
    tlsKey: z.string().min(1).nullable(),
    allowOrigin: z.array(z.url()),
    allowRemoteShell: z.boolean(),
    allowRemoteShellAgents: z.boolean(),
    wsCompression: z.boolean(),
    maxViewers: z.number().int().min(1).max(1_000_000),
    maxViewersPerToken: z.number().int().min(1).max(1_000_000),
    rotateTokens: z.boolean(),
    logLevel: z.enum(LOG_LEVELS),
    retentionTasks: z.number().int().min(1).max(10_000_000),
    retentionDays: z.number().min(0.001).max(36_500),
    auditRetentionEntries: z.number().int().min(1).max(100_000_000),
    auditRetentionDays: z.number().min(0.001).max(36_500),
    // Agent liveness and alert thresholds (alerts/rules.ts has the rules they tune).
    heartbeatTimeout: z.number().min(6).max(3600),
    alertErrorWarning: z.number().gt(0).max(1),
    alertErrorCritical: z.number().gt(0).max(1),
    alertBacklogGrowth: z.number().int().min(1).max(1_000_000),
    alertStuckAfter: z
      .number()
      .gt(0)
      .max(7 * 24 * 60),
    rendererDir: z.string().min(1).nullable(),
  })
  .strict()
  .refine((c) => (c.tlsCert === null) === (c.tlsKey === null), {
    message: '--tls-cert and --tls-key go together',
    path: ['tlsCert'],
  })
  .superRefine((c, context) => {
    const parsed = parseDatabaseUrl(c.database, c.dataDir)
    if (!parsed.ok) context.addIssue({ code: 'custom', message: parsed.message, path: ['database'] })
    if (c.redis === null) return
    const problem = redisUrlProblem(c.redis)
    if (problem) context.addIssue({ code: 'custom', message: problem, path: ['redis'] })
    // History and the leader lock are shared through PostgreSQL: a node's own SQLite file cannot be.
    else if (parsed.ok && parsed.target.kind !== 'postgres') {
      context.addIssue({
        code: 'custom',
        message:
          'cluster mode (--redis) needs PostgreSQL for the history and the leader lock: ' +
          'add --database postgres://user:password@host:5432/database, the same on every node',
        path: ['redis'],
      })
    }
  })
  .refine((c) => c.alertErrorWarning < c.alertErrorCritical, {
    message: '--alert-error-warning must be below --alert-error-critical',
    path: ['alertErrorWarning'],
  })

export type Config = z.infer<typeof ConfigSchema>

export { ConfigError }

const int = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n)) throw new ConfigError(`${name} must be a whole number, got "${value}"`)
  return n
}
const num = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got "${value}"`)
  return n
}
const collect = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value.split(',').filter(Boolean),
]

const ENV = 'SWARM_MONITOR_'

function buildProgram(): Command {
  const program = new Command('swarm-monitor')
    .description('Run a swarm coordinator and serve its live dashboard over HTTP + Socket.IO.')
    .version(VERSION, '-v, --version')
    .addOption(new Option('--host <host>', 'interface to bind').env(`${ENV}HOST`).default('127.0.0.1'))
    .addOption(
      new Option('-p, --port <port>', 'port to listen on (0: any free port)')
        .env(`${ENV}PORT`)
        .default(7420)
        .argParser(int('--port')),
    )
    .addOption(
      new Option('--swarm <file>', 'swarm file (YAML or JSON): local agent groups, tasks and workflows to submit').env(
        `${ENV}SWARM`,
      ),
    )
    .addOption(new Option('--demo', 'run the demo swarm (the default unless --swarm is given)'))
    .addOption(new Option('--no-demo', 'do not run the demo swarm (local agents still run)'))
    .addOption(
      new Option('--demo-agents <n>', 'simulated agents in the demo swarm')
        .env(`${ENV}DEMO_AGENTS`)
        .default(12)
        .argParser(int('--demo-agents')),
    )
    .addOption(
      new Option('--demo-rate <n>', 'synthetic tasks per second in the demo swarm')
        .env(`${ENV}DEMO_RATE`)
        // The default demo agents keep up with this with room to spare (demo/demo-swarm.ts).
        .default(1.5)
        .argParser(num('--demo-rate')),
    )
    .addOption(
      new Option('--local-agents <n>', 'local agents running shell tasks on this machine (0: none)')
        .env(`${ENV}LOCAL_AGENTS`)
        .default(availableParallelism(), 'one per CPU core')
        .argParser(int('--local-agents')),
    )
    .addOption(
      new Option('--data-dir <dir>', 'where tokens and logs live').env(`${ENV}DATA_DIR`).default(defaultDataDir()),
    )
    .addOption(
      new Option(
        '--database <url>',
        'where the task history lives: sqlite:PATH or postgres://user:password@host:5432/database (default: sqlite:<data-dir>/swarm.db)',
      ).env(`${ENV}DATABASE`),
    )
    .addOption(
      new Option(
        '--redis <url>',
        'run as one node of a cluster: redis:// or rediss:// URL of the Redis the nodes share (needs a postgres:// --database; docs/cluster.md)',
      ).env(`${ENV}REDIS`),
    )
    .addOption(
      new Option(
        '--node-id <id>',
        `this node's name in the cluster, ${NODE_ID_RULE} (default: <hostname>-<4 random hex>, new at each start)`,
      ).env(`${ENV}NODE_ID`),
    )
    .addOption(
      new Option(
        '--advertise-url <url>',
        'where the other nodes of a cluster reach this one (default: the URL it listens on; set it when that is 0.0.0.0 or behind NAT)',
      ).env(`${ENV}ADVERTISE_URL`),
    )
    .addOption(new Option('--tls-cert <file>', 'TLS certificate (PEM): serve HTTPS and WSS').env(`${ENV}TLS_CERT`))
    .addOption(new Option('--tls-key <file>', 'TLS private key (PEM)').env(`${ENV}TLS_KEY`))
    .addOption(
      new Option('--allow-origin <origin>', 'browser origin allowed to connect (repeatable; the own origin always is)')
        .env(`${ENV}ALLOW_ORIGIN`)
        .argParser(collect),
    )
    .addOption(
      new Option(
        '--allow-remote-shell',
        'accept shell tasks from operators on other machines (they run commands here; default: loopback only)',
      ),
    )
    .addOption(
      new Option(
        '--allow-remote-shell-agents',
        'let remote agents that register the capability shell run shell tasks, with their environment (default: local agents only)',
      ),
    )
    .addOption(
      new Option(
        '--ws-compression',
        'compress WebSocket messages (permessage-deflate), once per viewer: for plain-JSON clients on slow links; the dashboard compresses without it (default: off)',
      ),
    )
    .addOption(
      new Option('--max-viewers <n>', 'viewers (browsers, scripts on /dashboard) connected at once, in total')
        .env(`${ENV}MAX_VIEWERS`)
        .default(10_000)
        .argParser(int('--max-viewers')),
    )
    .addOption(
      new Option('--max-viewers-per-token <n>', 'viewers connected at once with one token (operator, viewer)')
        .env(`${ENV}MAX_VIEWERS_PER_TOKEN`)
        .default(5000)
        .argParser(int('--max-viewers-per-token')),
    )
    .addOption(
      new Option(
        '--rotate-tokens',
        'replace the tokens in <data-dir>/tokens.json with new ones at start (env tokens stay)',
      ),
    )
    .addOption(
      new Option('--retention-tasks <n>', 'finished tasks kept in the history database')
        .env(`${ENV}RETENTION_TASKS`)
        .default(100_000)
        .argParser(int('--retention-tasks')),
    )
    .addOption(
      new Option('--retention-days <days>', 'finished tasks older than this are deleted from the history')
        .env(`${ENV}RETENTION_DAYS`)
        .default(30)
        .argParser(num('--retention-days')),
    )
    .addOption(
      new Option('--audit-retention-entries <n>', 'audit trail entries kept in the history database')
        .env(`${ENV}AUDIT_RETENTION_ENTRIES`)
        .default(100_000)
        .argParser(int('--audit-retention-entries')),
    )
    .addOption(
      new Option('--audit-retention-days <days>', 'audit trail entries older than this are deleted')
        .env(`${ENV}AUDIT_RETENTION_DAYS`)
        .default(90)
        .argParser(num('--audit-retention-days')),
    )
    .addOption(
      new Option(
        '--heartbeat-timeout <seconds>',
        'silence after which a remote agent is offline and its tasks go back to the queue',
      )
        .env(`${ENV}HEARTBEAT_TIMEOUT`)
        .default(15)
        .argParser(num('--heartbeat-timeout')),
    )
    .addOption(
      new Option(
        '--alert-error-warning <share>',
        "error-rate alert (warning): share of the last minute's tasks that failed",
      )
        .env(`${ENV}ALERT_ERROR_WARNING`)
        .default(0.25)
        .argParser(num('--alert-error-warning')),
    )
    .addOption(
      new Option(
        '--alert-error-critical <share>',
        "error-rate alert (critical): share of the last minute's tasks that failed",
      )
        .env(`${ENV}ALERT_ERROR_CRITICAL`)
        .default(0.5)
        .argParser(num('--alert-error-critical')),
    )
    .addOption(
      new Option('--alert-backlog-growth <tasks>', 'backlog alert: queue growth over 30 s that raises it')
        .env(`${ENV}ALERT_BACKLOG_GROWTH`)
        .default(10)
        .argParser(int('--alert-backlog-growth')),
    )
    .addOption(
      new Option(
        '--alert-stuck-after <minutes>',
        'stuck-task alert: run time after which a task without a timeout is stuck',
      )
        .env(`${ENV}ALERT_STUCK_AFTER`)
        .default(10)
        .argParser(num('--alert-stuck-after')),
    )
    .addOption(
      new Option('--log-level <level>', 'console and file log level')
        .choices(LOG_LEVELS)
        .env(`${ENV}LOG_LEVEL`)
        .default('info'),
    )
    .addOption(
      new Option('--config <file>', 'config file (JSON or YAML) with the same keys in camelCase').env(`${ENV}CONFIG`),
    )
    .addHelpText(
      'after',
      `
Every flag can also be given as an environment variable (${ENV}PORT, ${ENV}NO_DEMO is --no-demo …)
or in the config file; flags win over the environment, which wins over the file.
Tokens: ${ENV}OPERATOR_TOKEN, ${ENV}VIEWER_TOKEN and ${ENV}AGENT_TOKEN fix them; otherwise they are
generated on first start and kept in <data-dir>/tokens.json (mode 0600).
Named tokens: swarm-monitor tokens add --role operator|viewer|agent --name NAME, tokens list,
tokens revoke NAME (see swarm-monitor tokens --help).`,
    )
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
  return program
}

const FILE_KEYS = new Set<string>(Object.keys(ConfigSchema.shape))

export interface ConfigOption {
  /** As in `--help`, e.g. `-p, --port <port>`. */
  flags: string
  long: string
  /** The environment variable commander reads for it; the boolean flags' variables are read by `loadConfig`. */
  env: string | null
  /** Its key in a config file, or null when a file cannot set it. */
  fileKey: string | null
  default: unknown
  description: string
}

/** The program's options as data, for the documentation and the test that keeps it in step. */
export function configOptions(): ConfigOption[] {
  return buildProgram().options.map((option) => {
    const key = option.attributeName()
    return {
      flags: option.flags,
      long: option.long ?? option.flags,
      env: option.envVar ?? null,
      fileKey: FILE_KEYS.has(key) && key !== 'rendererDir' && key !== 'rotateTokens' ? key : null,
      default: option.defaultValue,
      description: option.description,
    }
  })
}

function envFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined
  return !/^(0|false|no|off)$/i.test(value)
}
const negate = (flag: boolean | undefined) => (flag === undefined ? undefined : !flag)

function readConfigFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`)
  }
  let data: unknown
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new ConfigError(
      `config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    )
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`config file ${file} must hold an object of settings`)
  }
  for (const key of Object.keys(data)) {
    // Rotation is a one-off act at one start, not a standing setting.
    if (!FILE_KEYS.has(key) || key === 'rendererDir' || key === 'rotateTokens') {
      throw new ConfigError(`config file ${file}: unknown setting "${key}"`)
    }
  }
  return data as Record<string, unknown>
}

/**
 * Parses `argv` (without the node/electron executable and script) and `env`.
 * Throws `ConfigError`; `exitCode` 0 means help or version text was asked for.
 */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  rendererDir: string | null = null,
): Config {
  const program = buildProgram()
  let output = ''
  program.exitOverride().configureOutput({
    writeOut: (text) => (output += text),
    writeErr: (text) => (output += text),
    outputError: () => {},
  })
  const saved = process.env
  try {
    // commander reads option env vars from process.env; hand it the given env.
    process.env = env
    program.parse([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof ConfigError) throw error
    if (error instanceof CommanderError) {
      const zero = error.exitCode === 0
      throw new ConfigError(zero ? output.trimEnd() : error.message.replace(/^error: /, ''), zero ? 0 : 2)
    }
    throw error
  } finally {
    process.env = saved
  }
  const opts = program.opts<Record<string, unknown>>()
  const source = (key: string) => program.getOptionValueSource(key)

  const settings: Record<string, unknown> = {
    host: opts.host,
    port: opts.port,
    demo: opts.demo,
    demoAgents: opts.demoAgents,
    demoRate: opts.demoRate,
    localAgents: opts.localAgents,
    swarm: opts.swarm ?? null,
    dataDir: opts.dataDir,
    database: opts.database ?? null,
    redis: opts.redis ?? null,
    nodeId: opts.nodeId ?? null,
    advertiseUrl: opts.advertiseUrl ?? null,
    tlsCert: opts.tlsCert ?? null,
    tlsKey: opts.tlsKey ?? null,
    allowOrigin: opts.allowOrigin ?? [],
    allowRemoteShell: opts.allowRemoteShell,
    allowRemoteShellAgents: opts.allowRemoteShellAgents,
    rotateTokens: opts.rotateTokens === true,
    wsCompression: opts.wsCompression,
    maxViewers: opts.maxViewers,
    maxViewersPerToken: opts.maxViewersPerToken,
    logLevel: opts.logLevel,
    retentionTasks: opts.retentionTasks,
    retentionDays: opts.retentionDays,
    auditRetentionEntries: opts.auditRetentionEntries,
    auditRetentionDays: opts.auditRetentionDays,
    heartbeatTimeout: opts.heartbeatTimeout,
    alertErrorWarning: opts.alertErrorWarning,
    alertErrorCritical: opts.alertErrorCritical,
    alertBacklogGrowth: opts.alertBacklogGrowth,
    alertStuckAfter: opts.alertStuckAfter,
    rendererDir,
  }
  if (typeof opts.config === 'string') {
    const file = readConfigFile(opts.config)
    for (const [key, value] of Object.entries(file)) {
      const from = source(key)
      if (from === undefined || from === 'default') settings[key] = value
    }
  }
  // commander leaves `demo` undefined when neither --demo nor --no-demo is given: environment, then file.
  if (opts.demo === undefined) {
    settings.demo = envFlag(env[`${ENV}DEMO`]) ?? negate(envFlag(env[`${ENV}NO_DEMO`])) ?? settings.demo
  }
  // Flag, then environment, then file, then off.
  if (opts.allowRemoteShell === undefined) {
    settings.allowRemoteShell = envFlag(env[`${ENV}ALLOW_REMOTE_SHELL`]) ?? settings.allowRemoteShell ?? false
  }
  if (opts.allowRemoteShellAgents === undefined) {
    settings.allowRemoteShellAgents =
      envFlag(env[`${ENV}ALLOW_REMOTE_SHELL_AGENTS`]) ?? settings.allowRemoteShellAgents ?? false
  }
  if (opts.wsCompression === undefined) {
    settings.wsCompression = envFlag(env[`${ENV}WS_COMPRESSION`]) ?? settings.wsCompression ?? false
  }
  // Not a commander default: chosen at random once per process, it has no fixed value to show in --help or the docs.
  settings.nodeId ??= defaultNodeId()
  // The demo swarm is the default only when no swarm file is given.
  if (settings.demo === undefined) settings.demo = settings.swarm === null
  const parsed = ConfigSchema.safeParse(settings)
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`)
  return parsed.data
}
