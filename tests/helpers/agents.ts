/**
 * Agents for tests: raw typed Socket.IO clients on `/agents` (to play a
 * misbehaving or silent agent) and SDK agents, all closed after each test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { io, type Socket } from 'socket.io-client'
import type { AgentsClientToServer, AgentsServerToClient } from '../../src/shared/protocol'
import { createAgent, type AgentOptions, type SwarmAgent } from '../../src/sdk/agent'
import { TEST_TOKENS } from './core'

export type RawAgentSocket = Socket<AgentsServerToClient, AgentsClientToServer>

const open: { close(): unknown }[] = []

/** Closes every agent and socket opened since the last call; for `afterEach`. */
export async function closeAgents(): Promise<void> {
  await Promise.all(open.splice(0).map((agent) => agent.close()))
}

/** A raw client; `token: null` connects without one. */
export function rawAgent(url: string, token: string | null = TEST_TOKENS.agent): RawAgentSocket {
  const socket: RawAgentSocket = io(`${url}/agents`, {
    auth: token === null ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  })
  open.push(socket)
  return socket
}

/** Connects a raw client and registers it; resolves once the server acknowledged. */
export async function registeredRawAgent(
  url: string,
  id: string,
  capabilities: string[] = [],
): Promise<RawAgentSocket> {
  const socket = rawAgent(url)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  const answer = await socket.emitWithAck('agent:register', { id, name: id, capabilities })
  if (!answer.ok) throw new Error(`register refused: ${answer.error.message}`)
  return socket
}

/**
 * A registered raw agent a test drives by hand: it records the ids of the
 * tasks it is given (listening before it registers, so the queued work that
 * comes at once is seen) and finishes them when told.
 */
export async function manualAgent(url: string, id = 'w1', concurrency = 8) {
  const socket = rawAgent(url)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  const assigned: string[] = []
  socket.on('task:assign', ({ task }) => assigned.push(task.id))
  const registered = await socket.emitWithAck('agent:register', { id, name: id, capabilities: [], concurrency })
  if (!registered.ok) throw new Error(`register refused: ${registered.error.message}`)
  return {
    socket,
    assigned,
    succeed: (taskId: string) => socket.emitWithAck('task:complete', { taskId, result: null }),
    fail: (taskId: string) => socket.emitWithAck('task:fail', { taskId, error: 'boom' }),
  }
}

/** An SDK agent over WebSocket with test-friendly defaults (fast reconnects, no resource sampling). */
export function sdkAgent(
  url: string,
  options: Partial<AgentOptions> & Pick<AgentOptions, 'id' | 'handler'>,
): SwarmAgent {
  const agent = createAgent({
    url,
    token: TEST_TOKENS.agent,
    capabilities: [],
    metrics: false,
    reconnectDelayMs: 50,
    reconnectDelayMaxMs: 200,
    socket: { transports: ['websocket'] },
    ...options,
  })
  open.push(agent)
  return agent
}

/**
 * A Python interpreter that has python-socketio and websocket-client, or an
 * error saying what to install. `python3` first, then Debian's `/usr/bin/python3`
 * (a pyenv or venv `python3` on PATH does not see Debian's packages).
 */
export function findPython(): { python: string } | { error: string } {
  const candidates = [...new Set([process.env.SWARM_MONITOR_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean))]
  const tried: string[] = []
  for (const python of candidates as string[]) {
    const probe = spawnSync(python, ['-c', 'import socketio, websocket'], { encoding: 'utf8' })
    if (probe.status === 0) return { python }
    tried.push(`${python}: ${probe.error ? probe.error.message : probe.stderr.trim().split('\n').at(-1)}`)
  }
  return {
    error:
      'the Python example agent needs python3 with python-socketio and websocket-client: ' +
      'apt-get install -y python3 python3-socketio python3-websocket python3-requests ' +
      `(or set SWARM_MONITOR_PYTHON to an interpreter that has them). Tried ${tried.join('; ')}`,
  }
}

export const ROOT = resolve(__dirname, '../..')

export interface AgentProcess {
  child: ChildProcess
  output(): string
  /** Resolves with the first match in stdout + stderr; rejects if the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const processes: ChildProcess[] = []

/** Kills every agent process still running; for `afterEach`. */
export function killAgentProcesses(): void {
  for (const child of processes.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

/** Starts an example agent as a real child process in the repository root. */
export function spawnAgent(command: string, args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  processes.push(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  )
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolveMatch, reject) => {
        const started = Date.now()
        const check = () => {
          const match = output.match(pattern)
          if (match) return resolveMatch(match)
          if (child.exitCode !== null || child.signalCode !== null || Date.now() - started > timeoutMs) {
            return reject(new Error(`no ${pattern} from ${command} ${args.join(' ')}; output:\n${output}`))
          }
          setTimeout(check, 25)
        }
        check()
      })
    },
  }
}
