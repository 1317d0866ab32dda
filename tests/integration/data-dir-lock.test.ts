/**
 * One server per data dir (the built CLI, real processes): a second one
 * exits at once naming the first, before it reads or writes anything there;
 * the lock of a server killed with SIGKILL is taken over; of two servers
 * started at the same moment exactly one serves.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { postJson, TEST_TOKENS, TOKEN_ENV } from '../helpers/core'
import { builtEntry, run, type RunningProcess } from '../helpers/process'

const running: RunningProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()))
})

const dataDir = () => mkdtempSync(join(tmpdir(), 'sm-lock-cli-'))

function server(dir: string): RunningProcess {
  const started = run(
    builtEntry('cli'),
    ['--port', '0', '--data-dir', dir, '--no-demo', '--local-agents', '0'],
    TOKEN_ENV,
  )
  running.push(started)
  return started
}

const refusal = (dir: string, pid: number | undefined) =>
  `swarm-monitor: data dir ${dir} is in use by another Swarm Monitor (pid ${pid}); stop it or choose another --data-dir`

/** Every file under `dir` with its size, modification time and content: what "untouched" means. */
function contents(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name)
    const stat = statSync(path)
    if (stat.isFile()) files[name] = `${stat.size} ${stat.mtimeMs} ${readFileSync(path, 'base64')}`
  }
  return files
}

describe('one server per data dir', () => {
  it('a second server on a data dir in use exits 1 naming the first, and touches nothing', async () => {
    const dir = dataDir()
    let first = server(dir)
    const [, url] = await first.waitFor(/listening on (http:\S+)/)
    const held = { name: 'held', kind: 'compute', capabilities: ['nowhere'] }
    expect((await postJson(`${url}/api/tasks`, held, TEST_TOKENS.operator)).status).toBe(201)
    expect(await first.stop()).toBe(0)
    // Started again, it restores the task from the history: the line a second server must never print.
    first = server(dir)
    await first.waitFor(/tasks restored from the history database/)
    await first.waitFor(/listening on/)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const before = contents(dir)

    const second = server(dir)
    expect(await second.exited).toBe(1)
    expect(second.stderr().trim()).toBe(refusal(dir, first.child.pid))
    expect(second.stdout()).toBe('')
    expect(contents(dir)).toEqual(before)
    expect((await fetch(`${first.stdout().match(/(http:\S+)\/#token=/)![1]}/healthz`)).status).toBe(200)
  })

  it('takes over the lock of a server killed with SIGKILL', async () => {
    const dir = dataDir()
    const first = server(dir)
    await first.waitFor(/listening on/)
    first.child.kill('SIGKILL')
    await first.exited

    const second = server(dir)
    await second.waitFor(/listening on/)
    expect(second.stderr()).toMatch(
      new RegExp(`data dir lock taken over from a server that is gone previous=\\{"pid":${first.child.pid},`),
    )
    expect(await second.stop()).toBe(0)
    expect(readdirSync(dir)).not.toContain('swarm-monitor.lock')
  })

  it('of two servers started at the same moment exactly one serves, on a free and on a stale lock', async () => {
    for (const stale of [false, true]) {
      const dir = dataDir()
      if (stale) {
        const crashed = server(dir)
        await crashed.waitFor(/listening on/)
        crashed.child.kill('SIGKILL')
        await crashed.exited
      }
      const pair = [server(dir), server(dir)]
      const outcome = await Promise.race([
        Promise.any(pair.map((one) => one.waitFor(/listening on/).then(() => one))),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('neither serves')), 15_000)),
      ])
      const loser = pair.find((one) => one !== outcome)!
      expect(await loser.exited).toBe(1)
      expect(loser.stderr().trim()).toBe(refusal(dir, outcome.child.pid))
      expect(outcome.child.exitCode).toBeNull()
    }
  })
})
