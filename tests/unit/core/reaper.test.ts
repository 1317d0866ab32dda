/**
 * The process reaper (a real sh process): at the end of its stdin it ends
 * the groups it was told about, and only those. The integration test
 * tests/integration/shell-crash.test.ts kills a real server with SIGKILL.
 */
import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { ProcessReaper } from '../../../src/main/core/agents/reaper'
import { until } from '../../helpers/core'
import { isRunning } from '../../helpers/processes'

const groups: number[] = []
const reapers: ProcessReaper[] = []
afterEach(() => {
  for (const reaper of reapers.splice(0)) reaper.stop()
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

function group(command: string): number {
  const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: 'ignore' })
  child.unref()
  groups.push(child.pid!)
  return child.pid!
}

function reaper(graceMs = 1000): { reaper: ProcessReaper; warnings: string[] } {
  const warnings: string[] = []
  const started = new ProcessReaper({ graceMs, warn: (message) => warnings.push(message) })
  started.start()
  reapers.push(started)
  return { reaper: started, warnings }
}

/** Lets the reaper read what it was told before the test goes on. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200))

describe.skipIf(process.platform === 'win32')('process reaper', () => {
  it('ends the groups it knows when its stdin ends, and not the ones it was told are gone', async () => {
    const { reaper: watching } = reaper()
    const told = group('exec sleep 30')
    const removed = group('exec sleep 30')
    const never = group('exec sleep 30')
    watching.add(told)
    watching.add(removed)
    watching.remove(removed)
    await settle()
    const pid = watching.pid!
    expect(isRunning(pid)).toBe(true)

    watching.stop()
    await until(() => !isRunning(told), 3000, 'the told group ended')
    await until(() => !isRunning(pid), 3000, 'the reaper gone')
    expect(isRunning(removed)).toBe(true)
    expect(isRunning(never)).toBe(true)
  })

  it('sends SIGKILL after the grace to a group that ignores SIGTERM', async () => {
    const { reaper: watching } = reaper(1000)
    const stubborn = group("trap '' TERM; while :; do sleep 0.1; done")
    watching.add(stubborn)
    await settle()
    const started = Date.now()
    watching.stop()
    await until(() => !isRunning(stubborn), 4000, 'the stubborn group ended')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })

  it('ignores SIGINT, SIGHUP and SIGTERM: only the end of its stdin (the server gone) stops it', async () => {
    const { reaper: watching, warnings } = reaper()
    const told = group('exec sleep 30')
    watching.add(told)
    await settle()
    for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) process.kill(watching.pid!, signal)
    await settle()
    expect(isRunning(watching.pid!)).toBe(true)
    expect(isRunning(told)).toBe(true)
    expect(warnings).toEqual([])
  })

  it('says so when it ends while the server runs', async () => {
    const { reaper: watching, warnings } = reaper()
    process.kill(watching.pid!, 'SIGKILL')
    await until(() => warnings.length === 1, 3000, 'the warning')
    expect(warnings[0]).toMatch(/the process reaper ended while the server runs/)
    // Telling a reaper that is gone is harmless.
    watching.add(group('exec sleep 30'))
    await settle()
  })
})
