/**
 * `npm run cluster:demo` (scripts/cluster-demo.ts, on the built CLI): it
 * starts Redis, PostgreSQL, three nodes and nginx, prints the links; /healthz
 * and the API answer through nginx, with one demo swarm (the leader's);
 * SIGINT (Ctrl-C) stops every part — no port of them listens after — and
 * removes its temporary dir. A busy port is refused before anything starts.
 * Its arguments and its one-line answer when programs are missing, with fake
 * probes.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PORT, missingMessage, missingPackages, parsePort } from '../../scripts/cluster-demo/args'
import { listening } from '../helpers/nginx'
import { ROOT, builtEntry } from '../helpers/process'

function waitFor(read: () => string, pattern: RegExp, exited: () => boolean, ms: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = read().match(pattern)
      if (match) return resolve(match)
      if (exited() || Date.now() > deadline) return reject(new Error(`no ${pattern} from cluster:demo:\n${read()}`))
      setTimeout(check, 100)
    }
    check()
  })
}

describe('npm run cluster:demo', () => {
  it('starts three nodes behind nginx, answers through it, and Ctrl-C leaves nothing behind', async () => {
    builtEntry('cli') // fails naming `npm run build:app` when the build is missing
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster-demo.ts', '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const [, dir] = await waitFor(
        () => output,
        /removes (\S+)\.\n/,
        () => child.exitCode !== null,
        25_000,
      )
      const url = /behind nginx at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!
      const operator = new RegExp(`operator: ${url}/#token=(\\S+)`).exec(output)![1]!
      const ports = [url, ...[...output.matchAll(/node-\d: +(http:\/\/127\.0\.0\.1:\d+)/g)].map((match) => match[1]!)]
        .map((address) => Number(new URL(address).port))
        .concat(
          Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]),
          Number(/postgresql: 127\.0\.0\.1:(\d+)/.exec(output)![1]),
        )
      expect(ports).toHaveLength(6)

      const health = await fetch(`${url}/healthz`)
      expect(health.status).toBe(200)
      const { node } = (await health.json()) as { node: { id: string; role: string } }
      expect(['node-1', 'node-2', 'node-3']).toContain(node.id)
      const cluster = await fetch(`${url}/api/cluster`, { headers: { authorization: `Bearer ${operator}` } })
      const info = (await cluster.json()) as { leader: string | null; nodes: { id: string }[] }
      expect(info.nodes.map((entry) => entry.id).sort()).toEqual(['node-1', 'node-2', 'node-3'])
      expect(info.leader).not.toBeNull()
      // Every node has --demo, and only the leader runs it: one demo swarm, not three.
      const snapshot = await fetch(`${url}/api/snapshot`, { headers: { authorization: `Bearer ${operator}` } })
      const { agents } = (await snapshot.json()) as { agents: { id: string }[] }
      expect(agents.map((agent) => agent.id).sort()).toEqual(
        Array.from({ length: 12 }, (_, i) => `demo-${String(i + 1).padStart(2, '0')}`),
      )

      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(await Promise.all(ports.map((port) => listening(port)))).toEqual(ports.map(() => false))
      expect(existsSync(dir!)).toBe(false)
    } finally {
      // A failed check still lets the demo stop what it started (SIGKILL would leave its servers running).
      if (child.exitCode === null) {
        child.kill('SIGINT')
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        await exited
        clearTimeout(timer)
      }
    }
  }, 60_000)

  it('refuses a port in use, in one line, before starting anything', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as AddressInfo).port
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cluster-demo.ts', '--port', String(port)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 20_000,
      })
      expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({
        status: 1,
        stderr: `cluster:demo: port ${port} is in use on 127.0.0.1: pick another with --port\n`,
        stdout: '',
      })
    } finally {
      busy.close()
    }
  })

  it('names the packages to install, in one line, when programs are missing', () => {
    const absent = () => {
      throw new Error('not installed')
    }
    expect(
      missingPackages({
        'redis-server': absent,
        postgresql: () => '/usr/lib/postgresql/15/bin',
        'nginx-light': absent,
      }),
    ).toEqual(['redis-server', 'nginx-light'])
    expect(missingPackages({ 'redis-server': () => 'redis-server' })).toEqual([])
    expect(missingMessage(['redis-server', 'nginx-light'])).toBe(
      'cluster:demo needs redis-server, nginx-light, not installed here: apt-get install -y redis-server nginx-light',
    )
  })

  it('takes --port N (0: any free port), 7420 by default, and refuses a bad one', () => {
    expect(parsePort([])).toBe(DEFAULT_PORT)
    expect(DEFAULT_PORT).toBe(7420)
    expect(parsePort(['--port', '0'])).toBe(0)
    expect(parsePort(['--port', '8080'])).toBe(8080)
    expect(() => parsePort(['--port', 'x'])).toThrow('--port: not a port: x')
    expect(() => parsePort(['--port', '70000'])).toThrow('--port: not a port: 70000')
  })
})
