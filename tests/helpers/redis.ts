/**
 * A real Redis for tests, started by the tests themselves (no Docker):
 * Debian's `redis-server` as a child process in a temporary dir, on a free
 * loopback port, persisting nothing — so a restart comes back empty, which is
 * what the cluster's epoch must notice. One server per test file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports'

const INSTALL_HINT =
  'install it: apt-get install -y redis-server (npm test does that itself, see scripts/system-deps.mjs)'

/** `$REDIS_SERVER`, else Debian's /usr/bin/redis-server, else PATH. */
export function findRedisServer(): string {
  for (const candidate of [process.env.REDIS_SERVER, '/usr/bin/redis-server', 'redis-server'].filter(Boolean)) {
    if (spawnSync(candidate!, ['--version'], { encoding: 'utf8' }).status === 0) return candidate!
  }
  throw new Error(`the cluster tests need redis-server, which is not installed here: ${INSTALL_HINT}`)
}

export interface Redis {
  readonly port: number
  /** redis://127.0.0.1:port */
  readonly url: string
  /** `kill -9`: the server is gone at once, with its data (nothing is persisted). */
  kill(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
  /** Stops it for good and removes its dir. */
  destroy(): Promise<void>
}

/** True once the server answers PING with PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

export async function startRedis(): Promise<Redis> {
  const program = findRedisServer()
  const dir = mkdtempSync(join(tmpdir(), 'sm-redis-'))
  const port = await freePort()
  let child: ChildProcess | null = null
  let output = ''

  const start = async () => {
    output = ''
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir]
    args.push('--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning')
    const started = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child = started
    const deadline = Date.now() + 10_000
    while (!(await pings(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL')
        throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const kill = async () => {
    const running = child
    child = null
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGKILL')
    await exited
  }
  // A test run that dies leaves no server behind.
  const onExit = () => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  await start()

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill()
      await start()
    },
    async destroy() {
      await kill()
      process.removeListener('exit', onExit)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
