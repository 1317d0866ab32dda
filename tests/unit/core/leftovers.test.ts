/**
 * The process registry and what a start does with it: real process groups,
 * real files. Leftover groups that are still the recorded processes are
 * ended; a pid that now belongs to another process is never signalled.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { endLeftovers } from '../../../src/main/core/agents/leftovers'
import { ProcessRegistry } from '../../../src/main/core/agents/process-registry'
import { processIdentity } from '../../../src/main/core/process-identity'
import { until } from '../../helpers/core'
import { isRunning } from '../../helpers/processes'

const groups: number[] = []
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

/** A detached `/bin/sh -c command` (its own process group), as local agents start them. */
function group(command: string): number {
  const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: 'ignore' })
  child.unref()
  groups.push(child.pid!)
  return child.pid!
}

const registryIn = () => new ProcessRegistry(mkdtempSync(join(tmpdir(), 'sm-procs-')))

describe.skipIf(process.platform === 'win32')('process registry', () => {
  it('keeps one 0600 record per running group in a 0700 folder, and forgets it on remove', () => {
    const registry = registryIn()
    const pgid = group('exec sleep 30')
    expect(registry.add(pgid, 't-1')).toBe(true)
    expect(statSync(registry.dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(registry.dir, `${pgid}.json`)).mode & 0o777).toBe(0o600)
    expect(registry.list()).toEqual([
      expect.objectContaining({ pgid, taskId: 't-1', identity: processIdentity(pgid), serverPid: process.pid }),
    ])
    registry.remove(pgid)
    expect(registry.list()).toEqual([])
  })

  it('writes no record for a process that has already ended (nothing could be verified later)', async () => {
    const registry = registryIn()
    const child = spawn('/bin/sh', ['-c', 'exit 0'])
    await new Promise((resolve) => child.once('exit', resolve))
    expect(registry.add(child.pid!, 't-1')).toBe(false)
    expect(registry.list()).toEqual([])
  })

  it('drops damaged records and temporary files a crash left', () => {
    const registry = registryIn()
    mkdirSync(registry.dir, { recursive: true })
    writeFileSync(join(registry.dir, '123.json'), '{"pgid": 12')
    writeFileSync(join(registry.dir, '124.json.abc.tmp'), '{}')
    expect(registry.list()).toEqual([])
    expect(readdirSync(registry.dir)).toEqual([])
  })
})

describe.skipIf(process.platform === 'win32')('leftover process groups at start', () => {
  it('ends a recorded group that still runs (SIGTERM), with everything it started, and clears the records', async () => {
    const registry = registryIn()
    const memberFile = join(mkdtempSync(join(tmpdir(), 'sm-member-')), 'pid')
    const pgid = group(`sleep 300 & echo $! > ${memberFile}; exec sleep 300`)
    await until(() => existsSync(memberFile) && readFileSync(memberFile, 'utf8').endsWith('\n'), 2000, 'the member')
    const member = Number(readFileSync(memberFile, 'utf8'))
    expect(registry.add(pgid, 't-1')).toBe(true)
    const started = Date.now()
    const report = await endLeftovers(registry, 2000)
    expect(report.ended.map((record) => record.taskId)).toEqual(['t-1'])
    expect(isRunning(pgid)).toBe(false)
    expect(isRunning(member)).toBe(false)
    expect(Date.now() - started).toBeLessThan(1500)
    expect(registry.list()).toEqual([])
  })

  it('sends SIGKILL after the grace to a group that ignores SIGTERM', async () => {
    const registry = registryIn()
    const pgid = group("trap '' TERM; while :; do sleep 0.1; done")
    await new Promise((resolve) => setTimeout(resolve, 100))
    registry.add(pgid, 't-stubborn')
    const started = Date.now()
    const report = await endLeftovers(registry, 500)
    expect(report.ended).toHaveLength(1)
    expect(Date.now() - started).toBeGreaterThanOrEqual(500)
    expect(isRunning(pgid)).toBe(false)
  })

  it('never signals a pid that now belongs to another process (pid reuse)', async () => {
    const registry = registryIn()
    const unrelated = group('exec sleep 30')
    registry.add(unrelated, 't-old')
    // The record as an earlier process with this pid would have left it: same pid, another start time.
    const file = join(registry.dir, `${unrelated}.json`)
    const record = registry.list()[0]!
    const earlier = record.identity.replace(/\d+$/, (ticks) => String(Number(ticks) - 1))
    writeFileSync(file, JSON.stringify({ ...record, identity: earlier }))
    const report = await endLeftovers(registry, 500)
    expect(report).toEqual({ ended: [], leaderless: [], gone: 1 })
    expect(isRunning(unrelated)).toBe(true)
    expect(registry.list()).toEqual([])
  })

  it('reports a group whose leader is gone but whose members run, without signalling it', async () => {
    const registry = registryIn()
    // The leader starts a member in its group and exits at once; the member runs on.
    // (A second, not less: on a busy machine the record must be written while the leader still lives.)
    const pgid = group('sleep 30 & sleep 1')
    registry.add(pgid, 't-leaderless')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(processIdentity(pgid)).toBeNull()
    const report = await endLeftovers(registry, 500)
    expect(report.ended).toEqual([])
    expect(report.leaderless.map((record) => record.taskId)).toEqual(['t-leaderless'])
    expect(() => process.kill(-pgid, 0)).not.toThrow()
    expect(registry.list()).toEqual([])
  })
})
