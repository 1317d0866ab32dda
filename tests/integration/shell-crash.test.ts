/**
 * A shell task's processes do not outlive a crash of the server (the built
 * CLI, real processes, kill -9): the reaper ends them at once; when the
 * reaper is gone too, the next start ends them before the task runs again,
 * and the task then runs exactly once more.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import { getJson, postJson, TEST_TOKENS, TOKEN_ENV, until } from '../helpers/core'
import { builtEntry, run, type RunningProcess } from '../helpers/process'
import { isRunning } from '../helpers/processes'

const running: RunningProcess[] = []
const taskPids: number[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()))
  for (const pid of taskPids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone, as it should be
    }
  }
})

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix))
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [])

async function startServer(dataDir: string): Promise<{ server: RunningProcess; url: string }> {
  const server = run(
    builtEntry('cli'),
    ['--port', '0', '--data-dir', dataDir, '--local-agents', '1', '--no-demo', '--log-level', 'debug'],
    TOKEN_ENV,
  )
  running.push(server)
  const [, url] = await server.waitFor(/listening on (http:\S+)/)
  return { server, url: url! }
}

/** The reaper's pid from the debug log, or null when this server has none. */
function reaperPid(server: RunningProcess): number | null {
  const match = /process reaper started reaperPid=(\d+)/.exec(server.stderr())
  return match ? Number(match[1]) : null
}

async function submitShell(url: string, command: string): Promise<Task> {
  const response = await postJson(
    `${url}/api/tasks`,
    { name: 'crash', kind: 'shell', payload: { command } },
    TEST_TOKENS.operator,
  )
  expect(response.status).toBe(201)
  return response.body as Task
}

async function killed(server: RunningProcess): Promise<void> {
  server.child.kill('SIGKILL')
  expect(await server.exited).toBeNull()
}

describe.skipIf(process.platform === 'win32')('shell tasks and a crash of the server', () => {
  it('kill -9 of the server: the task process is gone within seconds (the reaper)', async () => {
    const work = tempDir('sm-crash-work-')
    const pidFile = join(work, 'pid')
    const { server, url } = await startServer(tempDir('sm-crash-'))
    await submitShell(url, `echo $$ > ${pidFile}; exec sleep 300`)
    await until(() => lines(pidFile).length === 1, 10_000, 'the task running')
    const pid = Number(lines(pidFile)[0])
    taskPids.push(pid)
    expect(isRunning(pid)).toBe(true)

    await killed(server)
    await until(() => !isRunning(pid), 5000, 'the task process ended')
  })

  it('reaper gone too: the restart ends the old process before the task runs again, and it runs exactly once', async () => {
    const dataDir = tempDir('sm-crash-')
    const work = tempDir('sm-crash-work-')
    const runs = join(work, 'runs')
    const overlap = join(work, 'overlap')
    // Each run first notes any earlier run still alive (a zombie does not count), then its own pid.
    const command = [
      `for p in $(cat ${runs} 2>/dev/null); do ps -o stat= -p $p 2>/dev/null | grep -q '^[^Z]' && echo $p >> ${overlap}; done`,
      `echo $$ >> ${runs}`,
      'exec sleep 300',
    ].join('; ')
    const first = await startServer(dataDir)
    const task = await submitShell(first.url, command)
    await until(() => lines(runs).length === 1, 10_000, 'the first run')
    const oldPid = Number(lines(runs)[0])
    taskPids.push(oldPid)

    const reaper = reaperPid(first.server)
    if (reaper !== null) {
      process.kill(reaper, 'SIGKILL')
      await until(() => !isRunning(reaper), 3000, 'the reaper gone')
    }
    await killed(first.server)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(isRunning(oldPid), 'nothing has ended the old run yet').toBe(true)

    const second = await startServer(dataDir)
    await until(() => lines(runs).length === 2, 10_000, 'the second run')
    taskPids.push(Number(lines(runs)[1]))
    expect(existsSync(overlap), 'the old run was still alive when the new one started').toBe(false)
    expect(isRunning(oldPid)).toBe(false)
    expect(second.server.stderr()).toMatch(
      new RegExp(
        `ended a process group of a shell task the previous server left running pgid=${oldPid} task=${task.id}`,
      ),
    )

    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(lines(runs)).toHaveLength(2)
    const listed = (await getJson(`${second.url}/api/tasks/${task.id}`, TEST_TOKENS.viewer)).body as { status: string }
    expect(listed.status).toBe('running')
  })
})
