/**
 * Starts a bench child (server or clients) under node + tsx with an IPC
 * channel, and ends it: politely first, then by its pid. Every child started
 * is remembered, so an interrupted run leaves none behind.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Caller, type Api } from './rpc'

const running = new Set<ChildProcess>()

export interface Child<A extends Api<A>> {
  readonly caller: Caller<A>
  readonly pid: number
  /** Last lines the child wrote to stderr, for error reports. */
  stderrTail(): string
  /** Asks `stopMethod` (if given) then makes sure the process is gone. */
  stop(stopMethod?: keyof A & string): Promise<void>
}

export function startChild<A extends Api<A>>(file: string, name: string, execArgv: string[] = []): Child<A> {
  const path = fileURLToPath(new URL(file, import.meta.url))
  const child = fork(path, [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  })
  running.add(child)
  const tail: string[] = []
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (text: string) => {
    for (const line of text.split('\n').filter(Boolean)) {
      tail.push(line)
      if (tail.length > 30) tail.shift()
      process.stderr.write(`[${name}] ${line}\n`)
    }
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('exit', () => running.delete(child))
  const caller = new Caller<A>(child, name)
  return {
    caller,
    pid: child.pid ?? -1,
    stderrTail: () => tail.join('\n'),
    async stop(stopMethod) {
      if (child.exitCode === null && child.signalCode === null) {
        if (stopMethod) await caller.call(stopMethod, null as A[typeof stopMethod][0], 15_000).catch(() => {})
        child.disconnect?.()
        await Promise.race([exited, sleep(3000)])
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      await Promise.race([exited, sleep(3000)])
    },
  }
}

/** Kills, by pid, every child still running (Ctrl-C, a crash of the orchestrator). */
export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} exceeded ${Math.round(ms / 1000)} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Runs an entry point's `main` (its answer is the exit code) and exits; on
 * Ctrl-C, a crash, or the end, no child is left behind.
 */
export function runMain(main: () => Promise<number>): void {
  process.on('SIGINT', () => {
    killChildren()
    process.exit(130)
  })
  main().then(
    (code) => {
      killChildren()
      process.exit(code)
    },
    (error: unknown) => {
      killChildren()
      console.error(error instanceof Error ? error.message : error)
      process.exit(2)
    },
  )
}
