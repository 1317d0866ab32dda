/** Checks on real processes, for tests that must prove nothing was left running. */
import { readFileSync } from 'node:fs'

/**
 * Whether `pid` is a running process. A zombie counts as gone: it has ended
 * and only waits to be reaped, which in a container whose init does not reap
 * orphans may be never.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return process.platform !== 'linux'
  }
}
