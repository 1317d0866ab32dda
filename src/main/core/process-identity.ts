/**
 * Who a pid is. A pid alone names a process only while it lives: once it is
 * gone the number can be handed to any later process. A record that must
 * outlive its process (the data dir lock, the local agents' process groups)
 * keeps the pid together with its identity, a string that stays the same for
 * the process's whole life (exec included) and differs for a later process
 * that gets the same pid; acting on the record first compares the two.
 *
 * - Linux: the start time in clock ticks since boot (field 22 of
 *   `/proc/<pid>/stat`) with the boot id, read without running anything.
 * - macOS and other Unixes: `ps -o stat=,lstart= -p <pid>`, the start time to
 *   the second (a pid handed out twice within one second is not a concern).
 * - Windows: none (null). Callers then do not act on a record they cannot
 *   verify, or fall back to "is the pid alive".
 *
 * A zombie (ended, waiting to be reaped) has no identity: it is not running.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let bootId: string | undefined

function linuxBootId(): string {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    } catch {
      bootId = 'unknown-boot'
    }
  }
  return bootId
}

/** From `/proc/<pid>/stat`: "pid (comm) state ppid … starttime …"; comm may hold spaces and parentheses. */
export function identityFromProc(pid: number): string | null {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const state = fields[0]
  // Fields after comm start at field 3 (state); starttime is field 22.
  const startTime = fields[19]
  if (!state || !startTime || state === 'Z' || state === 'X') return null
  return `linux:${linuxBootId()}:${startTime}`
}

/** From `ps` (BSD and procps agree on `stat` and `lstart`); exported so Linux tests can exercise the macOS path. */
export function identityFromPs(pid: number): string | null {
  let line: string
  try {
    line = execFileSync('ps', ['-o', 'stat=,lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim()
  } catch {
    // ps exits non-zero when there is no such process (and when it cannot run at all).
    return null
  }
  const match = /^(\S+)\s+(.+)$/.exec(line)
  if (!match || match[1]!.startsWith('Z')) return null
  return `ps:${match[2]!.replace(/\s+/g, ' ')}`
}

/** The identity of a running process, or null when it is not running or this platform cannot tell. */
export function processIdentity(pid: number): string | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null
  if (process.platform === 'win32') return null
  if (process.platform === 'linux') return identityFromProc(pid)
  return identityFromPs(pid)
}

/** Whether some process has this pid (possibly another user's: EPERM means it exists). */
export function pidExists(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether the process a record names is still the one it was: same identity
 * when the record has one; when it has none (the platform could not tell),
 * only whether the pid exists — the cautious answer for a lock, never enough
 * to kill anything.
 */
export function sameProcess(pid: number, identity: string | null): boolean {
  if (identity === null) return pidExists(pid)
  return processIdentity(pid) === identity
}
