/**
 * Starting a shell command as the leader of its own process group, and
 * ending the whole group, so nothing the command started outlives its task.
 */
import { spawn, type ChildProcess } from 'node:child_process'

const WINDOWS = process.platform === 'win32'

export interface SpawnShellOptions {
  cwd?: string
  env: NodeJS.ProcessEnv
}

/** `/bin/sh -c command` (Windows: `cmd /d /s /c`), detached so that its pid is also its process group id. */
export function spawnShell(command: string, options: SpawnShellOptions): ChildProcess {
  const [file, args] = WINDOWS
    ? [process.env.ComSpec ?? 'cmd.exe', ['/d', '/s', '/c', `"${command}"`]]
    : ['/bin/sh', ['-c', command]]
  return spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
    windowsVerbatimArguments: WINDOWS,
  })
}

/** Sends `signal` to every process in the group led by `pid`; false when the group is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (WINDOWS) {
    // No process groups to signal: taskkill walks the tree instead (and only knows one way to stop it).
    spawn('taskkill', ['/pid', String(pid), '/t', '/f'], { stdio: 'ignore', windowsHide: true }).on('error', () => {})
    return true
  }
  try {
    process.kill(-pid, signal)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

/** Whether any process of the group led by `pid` is still there (zombies count). */
export function groupExists(pid: number): boolean {
  if (WINDOWS) return false
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * SIGTERM to the group now, SIGKILL `graceMs` later to whatever ignored it;
 * `killed` runs once nothing of the group can run any more (no group to
 * signal, or the SIGKILL sent). Returns a function that cancels the SIGKILL
 * (once the group is known gone).
 */
export function killGroup(pid: number, graceMs: number, killed: () => void = () => {}): () => void {
  if (!signalGroup(pid, 'SIGTERM')) {
    killed()
    return () => {}
  }
  const timer = setTimeout(() => {
    try {
      signalGroup(pid, 'SIGKILL')
    } finally {
      killed()
    }
  }, graceMs)
  timer.unref()
  return () => clearTimeout(timer)
}
