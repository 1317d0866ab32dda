import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import {
  identityFromProc,
  identityFromPs,
  pidExists,
  processIdentity,
  sameProcess,
} from '../../../src/main/core/process-identity'
import { until } from '../../helpers/core'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

function sleeper(command = 'exec sleep 30'): ChildProcess {
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'ignore'] })
  children.push(child)
  return child
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise((resolve) => child.once('exit', resolve))
}

describe.skipIf(process.platform === 'win32')('process identity', () => {
  it('is stable for one process across exec, differs between processes, and is null once it has ended', async () => {
    // sh execs sleep: same pid, same process, another program.
    const child = sleeper('exec sleep 30')
    const before = processIdentity(child.pid!)
    expect(before).not.toBeNull()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(processIdentity(child.pid!)).toBe(before)
    expect(processIdentity(process.pid)).not.toBe(before)
    expect(sameProcess(child.pid!, before)).toBe(true)

    child.kill('SIGKILL')
    await exited(child)
    expect(processIdentity(child.pid!)).toBeNull()
    expect(sameProcess(child.pid!, before)).toBe(false)
    expect(pidExists(child.pid!)).toBe(false)
  })

  it('a pid now held by another process is not the same process (pid reuse)', () => {
    const other = sleeper()
    // A record of some earlier process that had this pid: same number, another start time.
    const earlier = processIdentity(other.pid!)!.replace(/\d+$/, (ticks) => String(Number(ticks) - 1))
    expect(sameProcess(other.pid!, earlier)).toBe(false)
    // Without an identity (a platform that cannot tell) only existence is known: cautious for locks only.
    expect(sameProcess(other.pid!, null)).toBe(true)
  })

  it('gives a zombie (ended, not yet reaped) no identity', async () => {
    // The background sleep ends after 0.1 s; its parent then execs a sleep that never reaps it.
    const parent = sleeper('sleep 0.1 & echo $!; exec sleep 30')
    const line = await new Promise<string>((resolve) =>
      parent.stdout!.once('data', (chunk: Buffer) => resolve(`${chunk}`)),
    )
    const zombie = Number(line.trim())
    expect(processIdentity(zombie)).not.toBeNull()
    await until(() => processIdentity(zombie) === null, 3000, 'the zombie')
    expect(pidExists(zombie)).toBe(true)
  })

  it('reads the same kind of identity from ps (the macOS path) as a check of that code', () => {
    const child = sleeper()
    const fromPs = identityFromPs(child.pid!)
    expect(fromPs).toMatch(/^ps:\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}$/)
    expect(identityFromPs(child.pid!)).toBe(fromPs)
    expect(identityFromPs(2 ** 22 + 12345)).toBeNull()
  })

  it.runIf(process.platform === 'linux')('uses /proc on Linux: boot id and start time', () => {
    expect(identityFromProc(process.pid)).toMatch(/^linux:[\w-]+:\d+$/)
    expect(processIdentity(process.pid)).toBe(identityFromProc(process.pid))
    expect(processIdentity(-1)).toBeNull()
    expect(processIdentity(0)).toBeNull()
  })
})
