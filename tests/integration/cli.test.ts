import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { TOKEN_ENV, TEST_TOKENS } from '../helpers/core'
import { builtEntry, run, type RunningProcess } from '../helpers/process'

const running: RunningProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.stop()))
})

const dataDir = () => mkdtempSync(join(tmpdir(), 'sm-cli-'))

describe('headless CLI (built out/main/cli.js)', () => {
  it('prints one "listening on" line with operator and viewer links and where agents connect, serves the dashboard, stops on SIGTERM', async () => {
    const dir = dataDir()
    const server = run(builtEntry('cli'), ['--port', '0', '--data-dir', dir], TOKEN_ENV)
    running.push(server)
    const [, url] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)
    expect(server.stdout().match(/listening on/g)).toHaveLength(1)
    expect(server.stdout()).toContain(`${url}/#token=${TEST_TOKENS.viewer}`)
    expect(server.stdout()).toContain(`agents:   ${url} (namespace /agents), token $SWARM_MONITOR_AGENT_TOKEN`)
    expect(server.stdout()).not.toContain(TEST_TOKENS.agent)
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/<div id="app">/)
    expect(await server.stop()).toBe(0)
    expect(server.stderr()).toMatch(/server started/)
  })

  it("names the tokens file as the agent token's place when no variable fixes it", async () => {
    const dir = dataDir()
    const env = { SWARM_MONITOR_OPERATOR_TOKEN: '', SWARM_MONITOR_VIEWER_TOKEN: '', SWARM_MONITOR_AGENT_TOKEN: '' }
    const server = run(builtEntry('cli'), ['--port', '0', '--data-dir', dir, '--no-demo', '--local-agents', '0'], env)
    running.push(server)
    await server.waitFor(/listening on/)
    const tokens = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as { agent: string }
    expect(server.stdout()).toContain(`token "agent" in ${join(dir, 'tokens.json')}`)
    expect(server.stdout()).not.toContain(tokens.agent)
  })

  it('exits 1 naming the SQLite addon SWARM_MONITOR_SQLITE_ADDON points at when it cannot be loaded', async () => {
    const dir = dataDir()
    const server = run(builtEntry('cli'), ['--port', '0', '--data-dir', dir], {
      ...TOKEN_ENV,
      SWARM_MONITOR_SQLITE_ADDON: join(dir, 'missing.node'),
    })
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toContain(`with the SQLite addon ${join(dir, 'missing.node')}: `)
    expect(server.stdout()).not.toContain('listening on')
  })

  it('refuses clashing tokens or a damaged tokens file in one line, with exit code 2', async () => {
    const same = run(builtEntry('cli'), ['--port', '0', '--data-dir', dataDir()], {
      ...TOKEN_ENV,
      SWARM_MONITOR_VIEWER_TOKEN: TEST_TOKENS.operator,
    })
    expect(await same.exited).toBe(2)
    expect(same.stderr().trim()).toBe('swarm-monitor: operator, viewer and agent tokens must all differ')

    const dir = dataDir()
    writeFileSync(join(dir, 'tokens.json'), '{"operator": "trunc')
    const damaged = run(builtEntry('cli'), ['--port', '0', '--data-dir', dir], {
      SWARM_MONITOR_OPERATOR_TOKEN: '',
      SWARM_MONITOR_VIEWER_TOKEN: '',
      SWARM_MONITOR_AGENT_TOKEN: '',
    })
    expect(await damaged.exited).toBe(2)
    expect(damaged.stderr().trim()).toMatch(
      /^swarm-monitor: \S+tokens\.json is not valid JSON \(.*\); fix or delete it to generate new tokens$/,
    )
  })

  it('exits non-zero with "port N is already in use" when the port is taken', async () => {
    const first = run(builtEntry('cli'), ['--port', '0', '--data-dir', dataDir()], TOKEN_ENV)
    running.push(first)
    const [, port] = await first.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/)
    const second = run(builtEntry('cli'), ['--port', port!, '--data-dir', dataDir()], TOKEN_ENV)
    expect(await second.exited).toBe(1)
    expect(second.stderr()).toContain(`port ${port} is already in use`)
  })

  it('refuses bad flags with exit code 2 and documents every flag in --help', async () => {
    const bad = run(builtEntry('cli'), ['--port', 'abc'])
    expect(await bad.exited).toBe(2)
    expect(bad.stderr()).toContain('--port must be a whole number')
    const help = run(builtEntry('cli'), ['--help'])
    expect(await help.exited).toBe(0)
    for (const flag of ['--host', '--port', '--no-demo', '--data-dir', '--tls-cert', '--allow-origin', '--log-level']) {
      expect(help.stdout()).toContain(flag)
    }
  })

  it('creates tokens.json with mode 0600 on first start and logs no token', async () => {
    const dir = dataDir()
    const server = run(builtEntry('cli'), ['--port', '0', '--data-dir', dir])
    running.push(server)
    await server.waitFor(/listening on/)
    const tokens = join(dir, 'tokens.json')
    expect(statSync(tokens).mode & 0o777).toBe(0o600)
    await fetch(server.stdout().match(/(http:\S+)\/#token=/)![1] + '/api/snapshot', {
      headers: { authorization: 'Bearer guess-guess-guess-guess' },
    })
    await server.stop()
    const { readFileSync } = await import('node:fs')
    const saved = JSON.parse(readFileSync(tokens, 'utf8')) as Record<string, string>
    const log = readFileSync(join(dir, 'logs', 'swarm-monitor.log'), 'utf8')
    expect(log).toMatch(/request refused/)
    for (const token of [...Object.values(saved), 'guess-guess-guess-guess']) {
      expect(log).not.toContain(token)
      expect(server.stderr()).not.toContain(token)
    }
  })
})
