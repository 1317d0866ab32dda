/**
 * An example remote agent written with the TypeScript SDK (src/sdk/).
 *
 *   SWARM_MONITOR_AGENT_TOKEN=… npx tsx examples/agents/node-agent.ts --url http://127.0.0.1:7420
 *
 * It announces the capabilities `hash` and `sleep` and runs tasks of those
 * kinds (submit them with the matching capability so no other agent takes
 * them; see docs/agents.md):
 *   hash   payload { text, algorithm? }  → result { algorithm, digest }
 *   sleep  payload { ms }                → result { sleptMs }, cancellable
 * Ctrl-C or SIGTERM disconnects; the server requeues whatever was running.
 */
import { createHash, getHashes } from 'node:crypto'
import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { createAgent, type TaskHandler } from '../../src/sdk/agent'

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.SWARM_MONITOR_URL ?? 'http://127.0.0.1:7420' },
    // Accepted, but the environment is the place for it: see the warning below.
    token: { type: 'string' },
    id: { type: 'string', default: `node-${hostname()}` },
    name: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (args.token !== undefined) {
  console.error(
    'warning: --token puts the agent token on the command line, where every user of this machine can read it ' +
      '(ps, /proc/PID/cmdline); set SWARM_MONITOR_AGENT_TOKEN instead',
  )
}
const token = args.token ?? process.env.SWARM_MONITOR_AGENT_TOKEN
if (args.help || !token) {
  console.error(
    'usage: SWARM_MONITOR_AGENT_TOKEN=… npx tsx examples/agents/node-agent.ts --url URL [--id ID] [--name NAME] [--concurrency N]\n' +
      '(the agent token comes from SWARM_MONITOR_AGENT_TOKEN; --token TOKEN works too, but shows it to ps)',
  )
  process.exit(args.help ? 0 : 2)
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true })
  })

const handlers: Record<string, TaskHandler> = {
  async hash(task, ctx) {
    const { text, algorithm = 'sha256' } = task.payload as { text?: unknown; algorithm?: string }
    if (typeof text !== 'string') throw new Error('payload.text must be a string')
    if (!getHashes().includes(algorithm)) throw new Error(`unknown algorithm ${algorithm}`)
    ctx.log('info', `hashing ${text.length} characters with ${algorithm}`)
    return { algorithm, digest: createHash(algorithm).update(text).digest('hex') }
  },

  async sleep(task, ctx) {
    const { ms } = task.payload as { ms?: unknown }
    if (typeof ms !== 'number' || !(ms >= 0) || ms > 3_600_000) throw new Error('payload.ms must be 0…3600000')
    // Ten steps, each reported: the dashboard shows the bar move; a cancel stops it between steps.
    for (let step = 1; step <= 10; step++) {
      await sleep(ms / 10, ctx.signal)
      ctx.progress(step / 10)
    }
    return { sleptMs: ms }
  },
}

const agent = createAgent({
  url: args.url,
  token,
  id: args.id,
  name: args.name ?? args.id,
  capabilities: Object.keys(handlers),
  // Only these kinds are assigned here: a demo task (kind "report", no capability) goes elsewhere.
  kinds: Object.keys(handlers),
  concurrency: Number(args.concurrency),
  handler: (task, ctx) => {
    const handler = handlers[task.kind]
    if (!handler) throw new Error(`this agent runs ${Object.keys(handlers).join(', ')} tasks, not ${task.kind}`)
    return handler(task, ctx)
  },
  onLog: (level, message) => {
    if (level !== 'debug') console.log(`[${args.id}] ${level}: ${message}`)
  },
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`[${args.id}] ${signal}: disconnecting`)
    void agent.close()
  })
}

void agent.ended.then((end) => {
  console.log(`[${args.id}] stopped: ${end.message}`)
  process.exit(end.reason === 'closed' ? 0 : 1)
})
