/**
 * Files only their owner may read: the history database (task payloads and
 * their env values), the logs, the lock and the process records. Created
 * 0600 and, when they already exist with a wider mode (an older version, a
 * copy), narrowed to 0600. The umask can only narrow a mode further, so it is
 * left alone. Windows has no such modes: nothing to do there.
 */
import { randomUUID } from 'node:crypto'
import { chmodSync, closeSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'

export const PRIVATE_MODE = 0o600
const WINDOWS = process.platform === 'win32'

/** Narrows an existing file to 0600 when group or others have any access; false when it is missing. */
export function tightenFile(file: string): boolean {
  if (WINDOWS) return false
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, PRIVATE_MODE)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

/** Creates `file` empty with mode 0600 if it is missing, or narrows it to 0600 if it is wider. */
export function ensurePrivateFile(file: string): void {
  if (tightenFile(file)) return
  // 'a': creates it if missing and never truncates one that appeared meanwhile.
  closeSync(openSync(file, 'a', PRIVATE_MODE))
}

/** Writes `text` to `file` whole or not at all (a 0600 temporary file renamed over it). */
export function writePrivateFile(file: string, text: string): void {
  const temporary = `${file}.${randomUUID()}.tmp`
  try {
    writeFileSync(temporary, text, { mode: PRIVATE_MODE })
    renameSync(temporary, file)
  } finally {
    rmSync(temporary, { force: true })
  }
}
