import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TaskSubmitSchema, type TaskSubmitRequest } from '../../../src/shared/commands'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { RecordingDriver } from '../../helpers/factories'
import { localAgentSpecs } from '../../../src/main/core/agents/local-agents'
import { LogBudget, splitLines } from '../../../src/main/core/agents/output-lines'

describe('local agent specs', () => {
  it('makes N plain agents local-1… and each swarm-file group local-<name>-i, all shell-only', () => {
    const specs = localAgentSpecs(2, [{ name: 'builder', count: 2, capabilities: ['build'], concurrency: 3 }])
    expect(specs.map((spec) => [spec.id, spec.name, spec.capabilities, spec.concurrency])).toEqual([
      ['local-1', 'local-1', ['shell'], 1],
      ['local-2', 'local-2', ['shell'], 1],
      ['local-builder-1', 'builder-1', ['shell', 'build'], 3],
      ['local-builder-2', 'builder-2', ['shell', 'build'], 3],
    ])
    expect(specs.every((spec) => spec.kind === 'local' && spec.kinds?.join() === 'shell')).toBe(true)
    expect(localAgentSpecs(0)).toEqual([])
  })
})

describe('routing between local, demo and remote agents', () => {
  let coordinator: Coordinator
  const local = new RecordingDriver()
  const demo = new RecordingDriver()
  const remote = new RecordingDriver()
  const submit = (fields: Partial<TaskSubmitRequest>) =>
    coordinator.submit(TaskSubmitSchema.parse({ name: 'job', kind: 'report', ...fields }))
  const settle = () => vi.advanceTimersByTimeAsync(0)

  beforeEach(() => {
    vi.useFakeTimers()
    for (const driver of [local, demo, remote]) driver.assigned = []
    coordinator = new Coordinator({ emit: () => {} })
  })
  afterEach(() => {
    coordinator.stop()
    vi.useRealTimers()
  })

  it('a shell task requires the shell capability: it shows on the task', () => {
    expect(submit({ kind: 'shell', payload: { command: 'true' } }).capabilities).toEqual(['shell'])
    expect(submit({ kind: 'shell', payload: { command: 'true' }, capabilities: ['build'] }).capabilities).toEqual([
      'build',
      'shell',
    ])
    expect(submit({ kind: 'report', capabilities: ['cpu'] }).capabilities).toEqual(['cpu'])
  })

  it('shell tasks go only to agents with shell; local agents take no other kind', async () => {
    coordinator.addAgent(localAgentSpecs(1)[0]!, local)
    coordinator.addAgent({ id: 'demo-01', name: 'ant', kind: 'demo', capabilities: ['cpu'], concurrency: 10 }, demo)
    const shells = [1, 2, 3].map(() => submit({ kind: 'shell', payload: { command: 'true' } }))
    const reports = [1, 2, 3].map(() => submit({ kind: 'report' }))
    await settle()
    // The local agent runs one shell task at a time; the others wait for it, not for the idle demo agent.
    expect(local.assigned.map((task) => task.id)).toEqual([shells[0]!.id])
    expect(demo.assigned.map((task) => task.id).sort()).toEqual(reports.map((task) => task.id).sort())
    expect(coordinator.getTask(shells[1]!.id)?.status).toBe('queued')
  })

  it('with only local agents, other kinds stay queued; with no shell agent, shell tasks stay queued', async () => {
    coordinator.addAgent(localAgentSpecs(1)[0]!, local)
    const report = submit({ kind: 'report' })
    await settle()
    expect(local.assigned).toEqual([])
    expect(coordinator.getTask(report.id)?.status).toBe('queued')

    coordinator.removeAgent('local-1')
    coordinator.addAgent({ id: 'r-1', name: 'remote', kind: 'remote', capabilities: ['gpu'] }, remote)
    const shellTask = submit({ kind: 'shell', payload: { command: 'true' } })
    await settle()
    expect(remote.assigned.map((task) => task.id)).toEqual([report.id])
    expect(coordinator.getTask(shellTask.id)?.status).toBe('queued')
  })

  it('a remote agent that declares shell runs no shell task by default, but other kinds needing shell', async () => {
    coordinator.addAgent({ id: 'r-1', name: 'remote', kind: 'remote', capabilities: ['shell'] }, remote)
    const task = submit({ kind: 'shell', payload: { command: 'true' } })
    const other = submit({ kind: 'probe', capabilities: ['shell'] })
    await settle()
    expect(remote.assigned.map((t) => t.id)).toEqual([other.id])
    expect(coordinator.getTask(task.id)?.status).toBe('queued')
  })

  it('a remote agent that declares shell may run shell tasks when the routing policy allows it', async () => {
    coordinator.stop()
    coordinator = new Coordinator({ emit: () => {}, routing: { remoteShellAgents: true } })
    coordinator.addAgent({ id: 'r-1', name: 'remote', kind: 'remote', capabilities: ['shell'] }, remote)
    const task = submit({ kind: 'shell', payload: { command: 'true' } })
    await settle()
    expect(remote.assigned.map((t) => t.id)).toEqual([task.id])
  })
})

describe('output lines', () => {
  it('LogBudget sends everything up to the bound, else bound-1 lines and a note', () => {
    const sent: string[] = []
    const budget = new LogBudget(3, (_level, text) => sent.push(text))
    for (const line of ['a', 'b', 'c']) budget.push('info', line)
    budget.end()
    expect(sent).toEqual(['a', 'b', 'c'])

    sent.length = 0
    const over = new LogBudget(3, (_level, text) => sent.push(text))
    for (const line of ['a', 'b', 'c', 'd', 'e']) over.push('info', line)
    over.end()
    expect(sent).toEqual(['a', 'b', '… 3 more lines not kept'])
  })

  it('splitLines handles chunks cut anywhere, CRLF, and a last line without newline', async () => {
    const stream = new PassThrough()
    const seen: string[] = []
    const flush = splitLines(stream, 10, (line) => seen.push(line))
    stream.write('one\r\ntw')
    stream.write('o\n\nthree-is-too-long')
    stream.write('-still\nfour')
    await new Promise((resolve) => setImmediate(resolve))
    flush()
    expect(seen).toEqual(['one', 'two', '', 'three-is-t…', 'four'])
  })
})
