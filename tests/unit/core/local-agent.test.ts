import { mkdtempSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TaskSubmitSchema, type TaskSubmit } from '../../../src/shared/commands'
import type { Task } from '../../../src/shared/domain'
import type { EventOf, SwarmChange } from '../../../src/shared/events'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { LocalAgent, type LocalAgentOptions } from '../../../src/main/core/agents/local-agent'
import { localAgentSpecs } from '../../../src/main/core/agents/local-agents'
import { until } from '../../helpers/core'
import { isRunning } from '../../helpers/processes'

const shell = (command: string, fields: Partial<TaskSubmit> = {}): TaskSubmit => ({
  ...TaskSubmitSchema.parse({ name: command.slice(0, 40), kind: 'shell', payload: { command } }),
  ...fields,
})

describe('LocalAgent (real child processes)', () => {
  let events: SwarmChange[]
  let coordinator: Coordinator
  let agents: LocalAgent[]

  beforeEach(() => {
    events = []
    agents = []
    coordinator = new Coordinator({ emit: (event) => events.push(event), retryBaseMs: 10 })
  })
  afterEach(async () => {
    await Promise.all(agents.map((agent) => agent.stop()))
    coordinator.stop()
  })

  function addAgent(id = 'local-1', concurrency = 1, options: LocalAgentOptions = {}): LocalAgent {
    const agent = new LocalAgent(id, coordinator, options)
    coordinator.addAgent({ ...localAgentSpecs(1)[0]!, id, name: id, concurrency }, agent)
    agents.push(agent)
    return agent
  }
  const task = (id: string): Task => coordinator.getTask(id)!
  const finished = (id: string, timeoutMs = 5000) =>
    until(
      () => ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(task(id).status),
      timeoutMs,
      `task ${id} to end`,
    )
  const logs = (id: string) =>
    events.filter(
      (event): event is Omit<EventOf<'task:log'>, 'seq'> => event.type === 'task:log' && event.taskId === id,
    )
  const lines = (id: string) => logs(id).map((event) => event.message)
  const statuses = (id: string) =>
    events.flatMap((event) => (event.type === 'task:status' && event.task.id === id ? [event.task.status] : []))

  it('fails `echo hi; exit 3` with the exit code, and keeps the log line', async () => {
    addAgent()
    const { id } = coordinator.submit(shell('echo hi; exit 3'))
    await finished(id)
    expect(task(id)).toMatchObject({ status: 'failed', error: 'exit code 3', agentId: 'local-1' })
    expect(logs(id)).toEqual([expect.objectContaining({ level: 'info', message: 'hi', agentId: 'local-1' })])
    expect(statuses(id)).toEqual(['queued', 'assigned', 'running', 'failed'])
  })

  it('succeeds on exit code 0 with { exitCode: 0 }; stderr lines are warnings', async () => {
    addAgent()
    const { id } = coordinator.submit(shell('echo ok; echo oops >&2'))
    await finished(id)
    expect(task(id)).toMatchObject({ status: 'succeeded', result: { exitCode: 0 }, progress: 1 })
    expect(logs(id).map((event) => [event.level, event.message])).toEqual(
      expect.arrayContaining([
        ['info', 'ok'],
        ['warn', 'oops'],
      ]),
    )
    expect(coordinator.getAgent('local-1')?.counters.done).toBe(1)
  })

  it('applies the payload env on top of the server environment, and the cwd', async () => {
    addAgent()
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'sm-cwd-')))
    const { id } = coordinator.submit({
      ...shell('true'),
      payload: { command: 'echo "$GREETING $HOME"; pwd', cwd: dir, env: { GREETING: 'hello' } },
    })
    await finished(id)
    expect(task(id).status).toBe('succeeded')
    expect(lines(id)).toEqual([`hello ${process.env.HOME}`, dir])
  })

  it("keeps the server's access tokens out of a command's environment; a payload may still set its own", async () => {
    addAgent('local-1', 1, {
      env: { ...process.env, SWARM_MONITOR_OPERATOR_TOKEN: 'op-secret', SWARM_MONITOR_AGENT_TOKEN: 'agent-secret' },
    })
    const { id } = coordinator.submit({
      ...shell('true'),
      payload: {
        command: 'echo "[$SWARM_MONITOR_OPERATOR_TOKEN][$SWARM_MONITOR_AGENT_TOKEN][$SWARM_MONITOR_VIEWER_TOKEN]"; env',
        env: { SWARM_MONITOR_VIEWER_TOKEN: 'chosen-by-the-task' },
      },
    })
    await finished(id)
    expect(lines(id)[0]).toBe('[][][chosen-by-the-task]')
    expect(lines(id).join('\n')).not.toMatch(/op-secret|agent-secret/)
    expect(lines(id)).toContain(`HOME=${process.env.HOME}`)
  })

  it('fails an invalid payload or a missing cwd with a clear message, and runs nothing', async () => {
    addAgent()
    const invalid = coordinator.submit({ ...shell('true'), payload: { command: 42 } })
    const noCwd = coordinator.submit({ ...shell('true'), payload: { command: 'touch x', cwd: '/nonexistent/dir' } })
    await finished(invalid.id)
    await finished(noCwd.id)
    expect(task(invalid.id).error).toMatch(/^invalid shell payload: command: .*expected string/)
    expect(task(noCwd.id).error).toBe('cwd /nonexistent/dir does not exist or cannot be read')
    expect(statuses(noCwd.id)).not.toContain('running')
  })

  it('cancel kills the whole process group within a second: no orphan left', async () => {
    addAgent()
    // The shell prints its own pid and two background children's, then waits for them.
    const { id } = coordinator.submit(shell('echo $$; sleep 30 & echo $!; sleep 30 & echo $!; wait'))
    await until(() => lines(id).length === 3, 5000, 'three pids')
    const pids = lines(id).map(Number)
    expect(pids.every((pid) => isRunning(pid))).toBe(true)
    const started = Date.now()
    coordinator.cancel(id)
    await until(() => pids.every((pid) => !isRunning(pid)), 1000, 'every process of the group to end')
    expect(Date.now() - started).toBeLessThan(1000)
    expect(task(id)).toMatchObject({ status: 'cancelled' })
    await until(() => agents[0]!.running === 0, 1000, 'the agent to let go of the child')
    expect(statuses(id).at(-1)).toBe('cancelled')
  })

  it('a timeout kills the group and ends the task timed_out', async () => {
    addAgent()
    const { id } = coordinator.submit(shell('echo $$; sleep 30 & echo $!; wait', { timeoutMs: 400 }))
    await until(() => lines(id).length === 2, 5000, 'two pids')
    const pids = lines(id).map(Number)
    await finished(id)
    expect(task(id)).toMatchObject({ status: 'timed_out', error: 'timed out after 400 ms' })
    await until(() => pids.every((pid) => !isRunning(pid)), 1000, 'every process of the group to end')
  })

  it('kills what a finished command left running in its group, and does not wait for it', async () => {
    addAgent()
    const started = Date.now()
    const { id } = coordinator.submit(shell('sleep 30 & echo $!; echo done'))
    await finished(id)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(task(id).status).toBe('succeeded')
    const [leftover] = lines(id).map(Number)
    await until(() => !isRunning(leftover!), 1000, 'the leftover sleep to end')
  })

  it('keeps at most 1,000 lines per task: the last one says how many more were not kept', async () => {
    addAgent()
    const chatty = coordinator.submit(shell('seq 5000'))
    const exact = coordinator.submit(shell('seq 1000'))
    await finished(chatty.id)
    await finished(exact.id)
    const kept = lines(chatty.id)
    expect(kept).toHaveLength(1000)
    expect(kept.slice(0, 3)).toEqual(['1', '2', '3'])
    expect(kept[998]).toBe('999')
    expect(kept[999]).toBe('… 4001 more lines not kept')
    expect(lines(exact.id)).toHaveLength(1000)
    expect(lines(exact.id)[999]).toBe('1000')
  })

  it('cuts very long lines', async () => {
    addAgent('local-1', 1, { maxLineLength: 100 })
    const { id } = coordinator.submit(shell("head -c 300000 /dev/zero | tr '\\0' x; echo; echo short"))
    await finished(id)
    expect(lines(id)).toEqual(['x'.repeat(100) + '…', 'short'])
  })

  it('runs several tasks at once up to its concurrency', async () => {
    addAgent('local-1', 3)
    const ids = [1, 2, 3].map((n) => coordinator.submit(shell(`sleep 0.3; echo ${n}`)).id)
    await until(() => coordinator.getAgent('local-1')!.currentTaskIds.length === 3, 2000, 'three tasks at once')
    const started = Date.now()
    for (const id of ids) await finished(id)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(ids.map((id) => task(id).status)).toEqual(['succeeded', 'succeeded', 'succeeded'])
  })

  it('stop ends every running command', async () => {
    const agent = addAgent('local-1', 2)
    const a = coordinator.submit(shell('echo $$; sleep 30'))
    const b = coordinator.submit(shell('echo $$; sleep 30'))
    await until(() => lines(a.id).length === 1 && lines(b.id).length === 1, 5000, 'both shells')
    const pids = [...lines(a.id), ...lines(b.id)].map(Number)
    await agent.stop()
    expect(pids.some((pid) => isRunning(pid))).toBe(false)
    expect(agent.running).toBe(0)
  })
})
