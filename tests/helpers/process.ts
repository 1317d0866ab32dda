/** Runs the built entry points as real child processes. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

export const ROOT = resolve(__dirname, '../..')

export function builtEntry(name: 'cli' | 'launch'): string {
  const file = resolve(ROOT, 'out/main', `${name}.js`)
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build:app" first (npm test does)`)
  return file
}

export interface RunningProcess {
  child: ChildProcessWithoutNullStreams
  stdout: () => string
  stderr: () => string
  /** Resolves with the first match of `pattern` in stdout or stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  exited: Promise<number | null>
  stop(): Promise<number | null>
}

export function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningProcess {
  const child = spawn(process.execPath, [file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolveMatch, reject) => {
        const started = Date.now()
        const check = () => {
          const match = (out + '\n' + err).match(pattern)
          if (match) return resolveMatch(match)
          if (child.exitCode !== null || Date.now() - started > timeoutMs) {
            return reject(new Error(`no ${pattern} in output:\n${out}\n${err}`))
          }
          setTimeout(check, 25)
        }
        check()
      })
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}
