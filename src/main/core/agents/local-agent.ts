/**
 * A local agent: runs `shell` tasks as child processes on this machine.
 *
 * Each attempt is `/bin/sh -c command` in its own process group, with the
 * server's environment (less the access tokens: a command could print them
 * into its log, which every viewer reads) plus the payload's `env`. stdout and stderr become the
 * task's log lines (info and warn), bounded per attempt; the exit code
 * decides success. Cancel, timeout and stop end the whole process group
 * (SIGTERM, then SIGKILL after a grace period), and so does the command's
 * own exit: nothing it started outlives its task. Each group is reported to
 * `groups` when it starts and once it is gone, so the process registry and
 * the reaper can end it if the server itself dies first.
 */
import { statSync } from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { describeIssues, ShellPayloadSchema } from '../../../shared/commands'
import type { Task } from '../../../shared/domain'
import type { AgentDriver, Coordinator } from '../coordinator/coordinator'
import { ENV_NAMES } from '../auth/tokens'
import { LogBudget, splitLines } from './output-lines'
import { groupExists, killGroup, spawnShell } from './process-group'

/** The only task kind a local agent runs. */
export const SHELL_KIND = 'shell'

/** Between SIGTERM and SIGKILL when a process group is ended. */
export const DEFAULT_KILL_GRACE_MS = 2000

/** Told about every command's process group: when it starts, and once nothing in it can run any more. */
export interface GroupWatcher {
  started(pgid: number, taskId: string): void
  ended(pgid: number): void
}

export interface LocalAgentOptions {
  /** Log lines sent per attempt, the note about dropped lines included. Default 1000 (the history's bound). */
  maxLogLines?: number
  /** Longer lines are cut. Default 4096 characters. */
  maxLineLength?: number
  /** Between SIGTERM and SIGKILL. Default 2000 ms. */
  killGraceMs?: number
  /** The environment commands start from; default `process.env`. */
  env?: NodeJS.ProcessEnv
  groups?: GroupWatcher
}

interface Run {
  taskId: string
  child: ChildProcess | null
  /** Set by cancel and stop: the run reports nothing more. */
  cancelled: boolean
  stopKill: (() => void) | null
  /** Reported to the group watcher and not yet reported gone. */
  watched: boolean
  closed: Promise<void>
}

export class LocalAgent implements AgentDriver {
  /** The run that currently holds each task; cancelled runs may still be dying. */
  private readonly runs = new Map<string, Run>()
  private readonly live = new Set<Run>()
  private readonly maxLogLines: number
  private readonly maxLineLength: number
  private readonly killGraceMs: number
  private readonly env: NodeJS.ProcessEnv
  private readonly groups: GroupWatcher | undefined
  private stopping = false

  constructor(
    readonly id: string,
    private readonly coordinator: Coordinator,
    options: LocalAgentOptions = {},
  ) {
    this.maxLogLines = options.maxLogLines ?? 1000
    this.maxLineLength = options.maxLineLength ?? 4096
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS
    this.env = withoutTokens(options.env ?? process.env)
    this.groups = options.groups
  }

  /** Child processes running now (cancelled ones that are still dying included). */
  get running(): number {
    return this.live.size
  }

  assign(task: Task): void {
    const fail = (error: string) => queueMicrotask(() => this.coordinator.reportFailed(this.id, task.id, error))
    if (this.stopping) return
    if (task.kind !== SHELL_KIND) return fail(`local agents run only ${SHELL_KIND} tasks, not "${task.kind}"`)
    const parsed = ShellPayloadSchema.safeParse(task.payload)
    if (!parsed.success) return fail(`invalid shell payload: ${describeIssues(parsed.error)}`)
    const { command, cwd, env } = parsed.data
    const cwdProblem = cwd === undefined ? null : checkDirectory(cwd)
    if (cwdProblem) return fail(cwdProblem)
    this.start(task.id, command, cwd, { ...this.env, ...env })
  }

  cancel(taskId: string): void {
    const run = this.runs.get(taskId)
    if (!run) return
    this.runs.delete(taskId)
    this.end(run)
  }

  /** Ends every child process group; resolves once they are gone (or the SIGKILL grace has passed). */
  async stop(): Promise<void> {
    this.stopping = true
    const runs = [...this.live]
    this.runs.clear()
    for (const run of runs) this.end(run)
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, this.killGraceMs + 500).unref())
    await Promise.race([Promise.all(runs.map((run) => run.closed)), deadline])
  }

  private start(taskId: string, command: string, cwd: string | undefined, env: NodeJS.ProcessEnv): void {
    let closed!: () => void
    const run: Run = {
      taskId,
      child: null,
      cancelled: false,
      stopKill: null,
      watched: false,
      closed: new Promise((resolve) => (closed = resolve)),
    }
    const current = () => !run.cancelled && this.runs.get(taskId) === run
    const budget = new LogBudget(this.maxLogLines, (level, line) => {
      if (current()) this.coordinator.reportLog(this.id, taskId, level, line)
    })
    const child = spawnShell(command, { cwd, env })
    run.child = child
    this.runs.set(taskId, run)
    this.live.add(run)
    if (child.pid !== undefined && this.groups) {
      // Before anything else can happen: a crash from here on must find this group recorded.
      run.watched = true
      this.groups.started(child.pid, taskId)
    }

    const flushOut = splitLines(child.stdout!, this.maxLineLength, (line) => budget.push('info', line))
    const flushErr = splitLines(child.stderr!, this.maxLineLength, (line) => budget.push('warn', line))
    let failure: string | null = null

    child.once('spawn', () => {
      if (current()) this.coordinator.reportStarted(this.id, taskId)
    })
    child.once('error', (error) => {
      // Spawning failed (or, rarely, signalling it did): no process to wait for beyond 'close'.
      failure ??= `could not start the command: ${error.message}`
    })
    child.once('exit', () => {
      // The command is done; anything it left running in its group goes too,
      // which also closes the pipes those leftovers held open.
      this.killLeftovers(run)
      // A process that left the group (setsid) may still hold a pipe: stop waiting for it.
      setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      }, 500).unref()
    })
    child.once('close', (code, signal) => {
      this.live.delete(run)
      if (child.pid !== undefined && !groupExists(child.pid)) {
        run.stopKill?.()
        this.unwatch(run)
      }
      flushOut()
      flushErr()
      budget.end()
      closed()
      if (!current()) return
      this.runs.delete(taskId)
      if (failure) this.coordinator.reportFailed(this.id, taskId, failure)
      else if (code === 0) this.coordinator.reportSucceeded(this.id, taskId, { exitCode: 0 })
      else if (code !== null) this.coordinator.reportFailed(this.id, taskId, `exit code ${code}`)
      else this.coordinator.reportFailed(this.id, taskId, `killed by ${signal ?? 'a signal'}`)
    })
  }

  private end(run: Run): void {
    run.cancelled = true
    this.killLeftovers(run)
  }

  private killLeftovers(run: Run): void {
    const pid = run.child?.pid
    if (pid === undefined || run.stopKill) return
    run.stopKill = killGroup(pid, this.killGraceMs, () => this.unwatch(run))
  }

  private unwatch(run: Run): void {
    if (!run.watched || run.child?.pid === undefined) return
    run.watched = false
    this.groups?.ended(run.child.pid)
  }
}

function checkDirectory(cwd: string): string | null {
  try {
    return statSync(cwd).isDirectory() ? null : `cwd ${cwd} is not a directory`
  } catch {
    return `cwd ${cwd} does not exist or cannot be read`
  }
}

function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const tokens = new Set<string>(Object.values(ENV_NAMES))
  return Object.fromEntries(Object.entries(env).filter(([name]) => !tokens.has(name)))
}
