/**
 * One server per data dir: `<data-dir>/swarm-monitor.lock` names the server
 * that holds it (pid and process identity, see ../process-identity.ts). It is
 * taken before anything reads or writes the data dir and removed at stop; a
 * second server finds it held and refuses to start, touching nothing.
 *
 * No check-then-write races:
 * - A free data dir is taken by hard-linking a complete temporary file to the
 *   lock's name: the link is exclusive (EEXIST for everyone but the first)
 *   and a reader never sees a half-written lock.
 * - A stale lock (its server is gone: pid gone, a zombie, or a pid now
 *   belonging to another process) is taken over by whoever first creates the
 *   claim file `swarm-monitor.lock.takeover-<generation>-1` (exclusive, as
 *   above). The winner reads the lock again, replaces it only if it is still
 *   the very text it judged stale, by atomic rename, with generation + 1.
 *   A claim whose creator died is passed over by taking `…-2`, and so on.
 */
import { randomUUID } from 'node:crypto'
import { closeSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { processIdentity, sameProcess } from '../process-identity'
import { StartError } from '../start-error'
import { PRIVATE_MODE, writePrivateFile } from '../private-file'

export const LOCK_FILE = 'swarm-monitor.lock'
const CLAIM_PREFIX = `${LOCK_FILE}.takeover-`
/** Rounds of looking again (a takeover under way, a lock being written without hard links) before giving up. */
const ATTEMPTS = 40
const PAUSE_MS = 50
const CLAIMS_PER_GENERATION = 10
/** File systems without hard links (FAT, some network shares): exclusive creation with open instead. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'])

/** What a lock file says about its server. */
export interface LockHolder {
  pid: number
  identity: string | null
  generation: number
  host?: string
  startedAt?: number
}

export interface DataDirLock {
  readonly file: string
  /** The server whose stale lock was taken over ('damaged' for a lock file that could not be read), or null. */
  readonly tookOver: LockHolder | 'damaged' | null
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void
}

export class DataDirInUseError extends StartError {
  constructor(
    readonly dataDir: string,
    /** 0 when no lock could be read (a takeover that never finished). */
    readonly holderPid: number,
  ) {
    super(
      `data dir ${dataDir} is in use by another Swarm Monitor (pid ${holderPid || 'unknown'}); stop it or choose another --data-dir`,
    )
  }
}

/**
 * What the file says, or null for anything this code does not write: every
 * lock (and claim) it writes has a pid and an identity, null only where the
 * platform cannot tell one; a file without one could not be verified anyway.
 */
function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>
    if (!Number.isSafeInteger(value.pid) || (value.pid ?? 0) <= 0) return null
    if (typeof value.identity !== 'string' && value.identity !== null) return null
    const identity = value.identity
    const generation = Number.isSafeInteger(value.generation) ? value.generation! : 0
    return { ...value, pid: value.pid!, identity, generation }
  } catch {
    return null
  }
}

/** The file's text, or null when it does not exist. */
function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/** Creates `file` holding `text` unless it exists; never visible half-written where hard links exist. */
function createExclusive(file: string, text: string): boolean {
  const temporary = `${file}.${randomUUID()}.tmp`
  try {
    writePrivate(temporary, text)
    linkSync(temporary, file)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    if (code === 'EEXIST') return false
    if (!NO_HARD_LINKS.has(code)) throw error
    return createWithOpen(file, text)
  } finally {
    rmSync(temporary, { force: true })
  }
}

function createWithOpen(file: string, text: string): boolean {
  let fd: number
  try {
    fd = openSync(file, 'wx', PRIVATE_MODE)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
  return true
}

function writePrivate(file: string, text: string): void {
  const fd = openSync(file, 'wx', PRIVATE_MODE)
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
}

function pause(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PAUSE_MS)
}

function describeMe(generation: number): string {
  const me: LockHolder = {
    pid: process.pid,
    identity: processIdentity(process.pid),
    generation,
    host: hostname(),
    startedAt: Date.now(),
  }
  return JSON.stringify(me) + '\n'
}

/**
 * Claims the takeover of the lock at `generation`: the claim file's path, or
 * the pid of the live server that holds the claim (0 when it cannot be read).
 */
function claimTakeover(dataDir: string, generation: number): string | number {
  const text = JSON.stringify({ pid: process.pid, identity: processIdentity(process.pid), generation }) + '\n'
  for (let k = 1; k <= CLAIMS_PER_GENERATION; k++) {
    const claim = join(dataDir, `${CLAIM_PREFIX}${generation}-${k}`)
    if (createExclusive(claim, text)) return claim
    const claimer = parseHolder(readText(claim) ?? '')
    // Unreadable: possibly being written (no hard links here); wait rather than pass it over.
    if (!claimer) return 0
    if (sameProcess(claimer.pid, claimer.identity)) return claimer.pid
  }
  return 0
}

function removeClaims(dataDir: string): void {
  for (const name of readdirSync(dataDir)) {
    if (name.startsWith(CLAIM_PREFIX)) rmSync(join(dataDir, name), { force: true })
  }
}

function held(file: string, text: string, tookOver: DataDirLock['tookOver']): DataDirLock {
  let released = false
  return {
    file,
    tookOver,
    release() {
      if (released) return
      released = true
      // Only ours: nobody takes over a lock whose server is alive, so it cannot have changed hands.
      if (readText(file) === text) rmSync(file, { force: true })
    },
  }
}

/**
 * Takes the data dir for this process, or throws DataDirInUseError naming the
 * server that has it; a data dir that cannot be made or written is a StartError too.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  try {
    return takeLock(dataDir)
  } catch (error) {
    if (error instanceof StartError) throw error
    throw new StartError(`cannot use the data dir ${dataDir}: ${(error as Error).message}`)
  }
}

function takeLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = join(dataDir, LOCK_FILE)
  let lastPid = 0
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = readText(file)
    if (current === null) {
      const text = describeMe(1)
      if (createExclusive(file, text)) return held(file, text, null)
      continue
    }
    const holder = parseHolder(current)
    // Unreadable: being written on a file system without hard links, or damaged; damaged for a while is stale.
    if (!holder && attempt < ATTEMPTS / 4) {
      pause()
      continue
    }
    if (holder) {
      lastPid = holder.pid
      if (sameProcess(holder.pid, holder.identity)) throw new DataDirInUseError(dataDir, holder.pid)
    }
    const generation = holder?.generation ?? 0
    const claim = claimTakeover(dataDir, generation)
    if (typeof claim === 'number') {
      // Another server is taking it over right now: its lock will be there in a moment.
      if (claim > 0) lastPid = claim
      pause()
      continue
    }
    try {
      if (readText(file) !== current) continue
      const text = describeMe(generation + 1)
      writePrivateFile(file, text)
      removeClaims(dataDir)
      return held(file, text, holder ?? 'damaged')
    } finally {
      rmSync(claim, { force: true })
    }
  }
  throw new DataDirInUseError(dataDir, lastPid)
}
