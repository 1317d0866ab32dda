/**
 * A swarm file's tasks across restarts and against the agents there are: a
 * restart does not enqueue them again while the history holds them (no
 * doubling), a task changed in the file is new, and a task no agent runs is
 * said in the log at start. Real servers on one data dir, a real file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readLogs } from '../security/support'
import { startCore, until } from '../helpers/core'

type Core = Awaited<ReturnType<typeof startCore>>
const cores: Core[] = []
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

function swarmFile(tasks: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sm-swarm-')), 'swarm.yaml')
  writeFileSync(file, `tasks:\n${tasks}`)
  return file
}

const TASKS = `
  - name: hello
    kind: shell
    payload: { command: 'echo hello' }
  - name: hello
    kind: shell
    payload: { command: 'echo hello' }
  - name: render the frames
    kind: render
    capabilities: [tpu]
`

async function start(file: string, dataDir?: string): Promise<Core> {
  const argv = ['--swarm', file, '--local-agents', '1', '--log-level', 'info']
  const core = await startCore(dataDir ? [...argv, '--data-dir', dataDir] : argv)
  cores.push(core)
  return core
}

/** The log once it holds `pattern` (lines reach the file a moment after they are logged). */
async function logWith(dataDir: string, pattern: RegExp): Promise<string> {
  await until(() => pattern.test(readLogs(dataDir)), 3000, `a log line matching ${pattern}`)
  return readLogs(dataDir)
}

const names = (core: Core) =>
  core.coordinator
    .listTasks({ limit: 100 })
    .tasks.map((task) => `${task.name}: ${task.status}`)
    .sort()

describe('swarm file tasks', () => {
  it('are enqueued once: a restart finds them in the history and does not enqueue them again', async () => {
    const file = swarmFile(TASKS)
    const first = await start(file)
    const dataDir = first.dataDir
    await until(
      () => first.coordinator.listTasks({ status: 'succeeded' }).total === 2,
      8000,
      'the two shell tasks to succeed',
    )
    const ids = first.coordinator.listTasks({ limit: 100 }).tasks.map((task) => task.id)
    expect(new Set(ids).size).toBe(3)
    await cores.pop()!.stop()

    const second = await start(file, dataDir)
    // The same three: two done, one still waiting; nothing new.
    expect(names(second)).toEqual(['hello: succeeded', 'hello: succeeded', 'render the frames: queued'])
    expect(
      second.coordinator
        .listTasks({ limit: 100 })
        .tasks.map((task) => task.id)
        .sort(),
    ).toEqual([...ids].sort())
    expect(await logWith(dataDir, /not enqueued again/)).toMatch(
      /"kept":3.*swarm file tasks already in the history from an earlier start/,
    )

    // A task changed in the file is a new task; the unchanged ones stay as they were.
    await cores.pop()!.stop()
    writeFileSync(
      file,
      `tasks:\n${TASKS.replace("command: 'echo hello' }\n  - name: render", "command: 'echo hi' }\n  - name: render")}`,
    )
    const third = await start(file, dataDir)
    expect(third.coordinator.listTasks({ limit: 100 }).total).toBe(4)
  })

  it('say at start, in the log, when no agent here runs them', async () => {
    const core = await start(swarmFile(TASKS))
    const log = await logWith(core.dataDir, /swarm file tasks wait/)
    const waits = log.split('\n').filter((line) => line.includes('swarm file tasks wait'))
    expect(waits).toHaveLength(1)
    expect(JSON.parse(waits[0]!)).toMatchObject({
      level: 40,
      count: 1,
      tasks: ['render the frames'],
      msg: expect.stringContaining('none runs render tasks with tpu'),
    })
    // The shell tasks have their local agent: not named.
    expect(waits[0]).not.toContain('hello')
  })
})
