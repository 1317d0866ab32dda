/**
 * A small exclusive lock for read-modify-write of one file by several
 * processes (the server at start, `swarm-monitor tokens …`): a lock file
 * created with O_EXCL. Synchronous on purpose: the changes it guards take
 * microseconds, and the command line and the start path are synchronous.
 * A lock older than `staleMs` is taken for one a crashed process left.
 */
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs'

export interface FileLockOptions {
  /** How long to wait for another holder; default 5 s. */
  waitMs?: number
  /** A lock file older than this is stale; default 10 s. */
  staleMs?: number
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

export function withFileLock<T>(lockFile: string, body: () => T, options: FileLockOptions = {}): T {
  const waitMs = options.waitMs ?? 5000
  const staleMs = options.staleMs ?? 10_000
  const deadline = Date.now() + waitMs
  let fd: number | null = null
  while (fd === null) {
    try {
      fd = openSync(lockFile, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      let age = 0
      try {
        age = Date.now() - statSync(lockFile).mtimeMs
      } catch {
        continue // gone meanwhile: try again at once
      }
      if (age > staleMs) {
        rmSync(lockFile, { force: true })
        continue
      }
      if (Date.now() > deadline) {
        throw new Error(`${lockFile} is held by another process (a tokens command or a starting server); try again`)
      }
      pause(20)
    }
  }
  try {
    writeSync(fd, String(process.pid))
    return body()
  } finally {
    closeSync(fd)
    rmSync(lockFile, { force: true })
  }
}
