/**
 * The built headless server (out/main/cli.js) as a child process: port 0 on
 * 127.0.0.1 (the server picks a free port and prints it), a fresh data dir,
 * fixed tokens through the environment. Like tests/e2e/fixtures.ts, without
 * depending on tests/.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const DEMO_TOKENS = {
  operator: 'demo-recording-operator-token-0001',
  viewer: 'demo-recording-viewer-token-00001',
  agent: 'demo-recording-agent-token-000001',
}

export interface DemoServer {
  url: string
  stop(): Promise<void>
}

export function cliEntry(root: string): string {
  return resolve(root, 'out/main/cli.js')
}

export function checkBuilt(root: string): string | null {
  const file = cliEntry(root)
  return existsSync(file) ? null : `${file} is missing: run "npm run build:app" first (npm run demo:record does)`
}

export async function startServer(root: string, args: string[], timeoutMs = 30_000): Promise<DemoServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sm-demo-'))
  const child = spawn(
    process.execPath,
    [cliEntry(root), '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...args],
    {
      cwd: root,
      env: {
        ...process.env,
        SWARM_MONITOR_OPERATOR_TOKEN: DEMO_TOKENS.operator,
        SWARM_MONITOR_VIEWER_TOKEN: DEMO_TOKENS.viewer,
        SWARM_MONITOR_AGENT_TOKEN: DEMO_TOKENS.agent,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    const url = await new Promise<string>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`the server did not start within ${timeoutMs / 1000} s`)),
        timeoutMs,
      )
      const check = (): void => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (match) {
          clearTimeout(timer)
          done(match[1]!)
        }
      }
      child.stdout.on('data', check)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        fail(new Error(`the server exited (${signal ?? `code ${code}`}) before listening`))
      })
    })
    return { url, stop }
  } catch (error) {
    await stop()
    const tail = output.trim().split('\n').slice(-10).join('\n')
    throw new Error(`${(error as Error).message}${tail ? `; its output:\n${tail}` : ''}`)
  }
}
