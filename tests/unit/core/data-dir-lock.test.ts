import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../../../src/main/core/config/data-dir-lock'
import { processIdentity } from '../../../src/main/core/process-identity'
import { StartError } from '../../../src/main/core/start-error'
import { until } from '../../helpers/core'
import { isRunning } from '../../helpers/processes'
import { ROOT } from '../../helpers/process'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

const freshDir = () => mkdtempSync(join(tmpdir(), 'sm-lock-'))
const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>
const writeLock = (dir: string, holder: object) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder))

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' })
  children.push(child)
  return child
}

/** A pid and identity of a process that has ended: what a server killed with SIGKILL leaves in its lock. */
async function deadProcess(): Promise<{ pid: number; identity: string }> {
  const child = sleeper()
  const identity = processIdentity(child.pid!)!
  child.kill('SIGKILL')
  await new Promise((resolveExit) => child.once('exit', resolveExit))
  return { pid: child.pid!, identity }
}

describe.skipIf(process.platform === 'win32')('data dir lock', () => {
  it('is one 0600 file naming this process; a second taker is refused by name and pid, touching nothing', () => {
    const dir = freshDir()
    const lock = lockDataDir(dir)
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, identity: processIdentity(process.pid), generation: 1 })
    expect(statSync(lock.file).mode & 0o777).toBe(0o600)
    expect(lock.tookOver).toBeNull()

    const before = readFileSync(lock.file, 'utf8')
    let refused: unknown
    try {
      lockDataDir(dir)
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(DataDirInUseError)
    expect(refused).toBeInstanceOf(StartError)
    expect((refused as Error).message).toBe(
      `data dir ${dir} is in use by another Swarm Monitor (pid ${process.pid}); stop it or choose another --data-dir`,
    )
    expect(readFileSync(lock.file, 'utf8')).toBe(before)
    expect(readdirSync(dir)).toEqual([LOCK_FILE])

    lock.release()
    lock.release()
    expect(readdirSync(dir)).toEqual([])
    lockDataDir(dir).release()
  })

  it('refuses while the process a lock names is alive and still the same process', () => {
    const dir = freshDir()
    const other = sleeper()
    writeLock(dir, { pid: other.pid, identity: processIdentity(other.pid!), generation: 3 })
    expect(() => lockDataDir(dir)).toThrow(`in use by another Swarm Monitor (pid ${other.pid})`)
  })

  it('takes over a stale lock: its server was killed with SIGKILL', async () => {
    const dir = freshDir()
    const dead = await deadProcess()
    writeLock(dir, { ...dead, generation: 4, startedAt: 1 })
    const lock = lockDataDir(dir)
    expect(lock.tookOver).toMatchObject({ pid: dead.pid, identity: dead.identity })
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, generation: 5 })
    expect(statSync(lock.file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual([LOCK_FILE])
    lock.release()
  })

  it('takes over a lock whose pid now belongs to an unrelated process, and leaves that process alone', () => {
    const dir = freshDir()
    const unrelated = sleeper()
    const earlier = processIdentity(unrelated.pid!)!.replace(/\d+$/, (ticks) => String(Number(ticks) - 1))
    writeLock(dir, { pid: unrelated.pid, identity: earlier, generation: 1 })
    const lock = lockDataDir(dir)
    expect(lock.tookOver).toMatchObject({ pid: unrelated.pid })
    expect(lockOf(dir).pid).toBe(process.pid)
    expect(isRunning(unrelated.pid!)).toBe(true)
    lock.release()
  })

  it('takes over a damaged lock file after a short wait (it could have been mid-write)', () => {
    for (const damaged of ['{"pid": 12', `{"pid": ${process.pid}}`]) {
      const dir = freshDir()
      writeFileSync(join(dir, LOCK_FILE), damaged)
      const lock = lockDataDir(dir)
      expect(lock.tookOver, damaged).toBe('damaged')
      expect(lockOf(dir).pid).toBe(process.pid)
      lock.release()
    }
  })

  it('waits for a live server that claimed the takeover, and passes over a claim whose server died', async () => {
    const dir = freshDir()
    const dead = await deadProcess()
    writeLock(dir, { ...dead, generation: 7 })
    const claimer = sleeper()
    writeFileSync(
      join(dir, `${LOCK_FILE}.takeover-7-1`),
      JSON.stringify({ pid: claimer.pid, identity: processIdentity(claimer.pid!) }),
    )
    const started = Date.now()
    expect(() => lockDataDir(dir)).toThrow(`in use by another Swarm Monitor (pid ${claimer.pid})`)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)

    writeFileSync(join(dir, `${LOCK_FILE}.takeover-7-1`), JSON.stringify(dead))
    const lock = lockDataDir(dir)
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, generation: 8 })
    expect(readdirSync(dir)).toEqual([LOCK_FILE])
    lock.release()
  })

  it('leaves a lock that is not its own at release', () => {
    const dir = freshDir()
    const lock = lockDataDir(dir)
    writeLock(dir, { pid: 1, identity: 'someone else', generation: 9 })
    lock.release()
    expect(lockOf(dir).generation).toBe(9)
  })

  it('says plainly when the data dir cannot be made', () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'file'), '')
    expect(() => lockDataDir(join(dir, 'file', 'data'))).toThrow(
      new StartError(
        `cannot use the data dir ${join(dir, 'file', 'data')}: ENOTDIR: not a directory, mkdir '${join(dir, 'file', 'data')}'`,
      ),
    )
  })
})

describe.skipIf(process.platform === 'win32')('data dir lock: processes racing for it', () => {
  /** Starts `count` processes, lets them all try at once, and resolves with what each answered. */
  async function race(dir: string, count: number): Promise<string[]> {
    const tsx = resolve(ROOT, 'node_modules/.bin/tsx')
    const script = resolve(ROOT, 'tests/helpers/lock-contender.ts')
    const go = join(freshDir(), 'go')
    const contenders = Array.from({ length: count }, () => {
      const child = spawn(tsx, [script, dir, go], { stdio: ['pipe', 'pipe', 'inherit'] })
      children.push(child)
      let out = ''
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()))
      return { child, lines: () => out.trim().split('\n') }
    })
    await until(() => contenders.every(({ lines }) => lines()[0] === 'ready'), 20_000, 'every contender ready')
    writeFileSync(go, '')
    await until(() => contenders.every(({ lines }) => lines().length === 2), 10_000, 'every answer')
    for (const { child } of contenders) child.stdin!.end()
    return contenders.map(({ lines }) => lines()[1]!)
  }

  it('on a free data dir: exactly one wins, the others are refused naming it', async () => {
    const results = await race(freshDir(), 5)
    expect(results.filter((result) => result === 'won')).toHaveLength(1)
    expect(
      results.filter((result) => /^refused: .* in use by another Swarm Monitor \(pid \d+\)/.test(result)),
    ).toHaveLength(4)
  }, 30_000)

  it('on a stale lock: exactly one takes it over', async () => {
    const dir = freshDir()
    writeLock(dir, { ...(await deadProcess()), generation: 2 })
    const results = await race(dir, 5)
    expect(results.filter((result) => result === 'won')).toHaveLength(1)
    expect(results.filter((result) => result.startsWith('refused: '))).toHaveLength(4)
  }, 30_000)
})
