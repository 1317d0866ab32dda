/**
 * Named tokens end to end: the built `swarm-monitor tokens` commands as real
 * child processes on a running server's data dir. A new token is printed
 * once and works at once; `tokens list` never shows a token; a revoked one
 * is refused over HTTP and Socket.IO within the documented 2 s, and its open
 * connections are closed; the three generated tokens keep working; the
 * viewer cap counts per token name.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAgents, rawAgent } from '../helpers/agents'
import { connectDashboard, dashboardClient, getJson, refusal, startCore, TEST_TOKENS, until } from '../helpers/core'
import { builtEntry, run } from '../helpers/process'
import { runTokensCommand } from '../../src/main/tokens-cli'

const cli = () => builtEntry('cli')

async function tokens(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = run(cli(), ['tokens', ...args])
  const code = await child.exited
  return { code, out: child.stdout(), err: child.stderr() }
}

/** The same command in this process: for the refusals, without a child's start-up cost each. */
function tokensHere(args: string[]): { code: number; out: string; err: string } {
  let out = ''
  let err = ''
  const code = runTokensCommand(args, { out: (t) => (out += t), err: (t) => (err += t), env: {} })
  return { code, out, err }
}

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await closeAgents()
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

async function core(argv: string[] = [], env?: NodeJS.ProcessEnv) {
  const started = await startCore(['--no-demo', ...argv], env ? { env } : {})
  stops.push(() => started.stop())
  return started
}

describe('swarm-monitor tokens', () => {
  it('adds a token shown once on stdout, lists names and roles only, revokes it; the file stays 0600', async () => {
    const server = await core()
    const added = await tokens(['add', '--role', 'operator', '--name', 'alice', '--data-dir', server.dataDir])
    expect(added.code).toBe(0)
    const token = added.out.trim()
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(added.err).toContain('shown this once')
    const file = join(server.dataDir, 'tokens.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    // Only a digest is kept.
    expect(readFileSync(file, 'utf8')).not.toContain(token)

    const listed = await tokens(['list', '--data-dir', server.dataDir])
    expect(listed.code).toBe(0)
    expect(listed.out).toMatch(/alice\s+operator\s+named/)
    expect(listed.out).toMatch(/viewer\s+viewer\s+generated/)
    expect(listed.out).not.toContain(token)
    const json = JSON.parse(tokensHere(['list', '--json', '--data-dir', server.dataDir]).out) as unknown[]
    expect(json).toContainEqual({ name: 'alice', role: 'operator', source: 'named', createdAt: expect.any(Number) })

    const dir = ['--data-dir', server.dataDir]
    expect(tokensHere(['add', '--role', 'viewer', '--name', 'ALICE', ...dir])).toMatchObject({ code: 1, out: '' })
    expect(tokensHere(['add', '--role', 'root', '--name', 'bob', ...dir])).toMatchObject({ code: 2, out: '' })
    expect(tokensHere(['add', '--role', 'viewer', '--name', 'no spaces', ...dir])).toMatchObject({ code: 2 })
    expect(tokensHere(['add', '--role', 'viewer', '--name', 'agent', ...dir]).err).toContain(
      'name of a generated token',
    )
    expect(tokensHere(['add', '--name', 'x', ...dir]).code).toBe(2)
    const builtin = tokensHere(['revoke', 'viewer', ...dir])
    expect(builtin.code).toBe(2)
    expect(builtin.err).toContain('--rotate-tokens')
    expect(tokensHere(['revoke', 'nobody', ...dir]).code).toBe(1)
    const revoked = await tokens(['revoke', 'alice', '--data-dir', server.dataDir])
    expect(revoked.code).toBe(0)
    expect(revoked.out).toContain('within 2 s')
    expect(tokensHere(['list', '--data-dir', server.dataDir]).out).not.toContain('alice')
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('finds the data dir as the server does: SWARM_MONITOR_DATA_DIR', async () => {
    const server = await core()
    const child = run(cli(), ['tokens', 'add', '--role', 'viewer', '--name', 'ci'], {
      SWARM_MONITOR_DATA_DIR: server.dataDir,
    })
    expect(await child.exited).toBe(0)
    expect(readFileSync(join(server.dataDir, 'tokens.json'), 'utf8')).toContain('"ci"')
  })
})

describe('a running server and named tokens', () => {
  it('accepts a new token at once, and refuses it within 2 s of its revocation, closing its connections', async () => {
    const server = await core()
    const token = (
      await tokens(['add', '--role', 'operator', '--name', 'alice', '--data-dir', server.dataDir])
    ).out.trim()
    expect((await getJson(`${server.url}/api/snapshot`, token)).status).toBe(200)
    const { socket, welcome } = await connectDashboard(server.url, token)
    expect(welcome.role).toBe('operator')
    const answer = await socket.emitWithAck('task:submit', { name: 'by alice', kind: 'report' })
    expect(answer.ok).toBe(true)
    const closed = new Promise<number>((resolve) => socket.once('disconnect', () => resolve(Date.now())))

    const revokedAt = Date.now()
    expect((await tokens(['revoke', 'alice', '--data-dir', server.dataDir])).code).toBe(0)
    let refusedAt = 0
    while (Date.now() - revokedAt < 3000) {
      if ((await getJson(`${server.url}/api/snapshot`, token)).status === 401) {
        refusedAt = Date.now()
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(refusedAt, 'refused over HTTP').toBeGreaterThan(0)
    expect(refusedAt - revokedAt).toBeLessThan(2000 + 500)
    expect((await closed) - revokedAt).toBeLessThan(2000 + 500)
    expect(await refusal(dashboardClient(server.url, token))).toBe('unauthorized')
    // The generated tokens are untouched.
    expect((await getJson(`${server.url}/api/snapshot`, TEST_TOKENS.viewer)).status).toBe(200)
  })

  it('closes an agent connection whose named agent token is revoked', async () => {
    const server = await core()
    const token = (
      await tokens(['add', '--role', 'agent', '--name', 'builder-7', '--data-dir', server.dataDir])
    ).out.trim()
    const agent = rawAgent(server.url, token)
    await new Promise<void>((resolve, reject) => {
      agent.once('connect', () => resolve())
      agent.once('connect_error', reject)
    })
    expect((await agent.emitWithAck('agent:register', { id: 'b7', name: 'b7', capabilities: [] })).ok).toBe(true)
    const gone = new Promise<void>((resolve) => agent.once('disconnect', () => resolve()))
    await tokens(['revoke', 'builder-7', '--data-dir', server.dataDir])
    await gone
    await until(() => server.coordinator.listAgents().find((a) => a.id === 'b7')?.status === 'offline', 3000)
  })

  it('keeps the three generated tokens of tokens.json working beside named ones', async () => {
    const server = await core([], {})
    const generated = JSON.parse(readFileSync(join(server.dataDir, 'tokens.json'), 'utf8')) as Record<string, string>
    const named = (await tokens(['add', '--role', 'viewer', '--name', 'wall', '--data-dir', server.dataDir])).out.trim()
    for (const token of [generated.operator!, generated.viewer!, named]) {
      expect((await getJson(`${server.url}/api/agents`, token)).status).toBe(200)
    }
    expect((await getJson(`${server.url}/api/agents`, generated.agent)).status).toBe(403)
    expect(server.tokens.operator).toBe(generated.operator)
  })

  it('caps viewers per token name, not per role', async () => {
    const server = await core(['--max-viewers-per-token', '1'])
    const wall = (await tokens(['add', '--role', 'viewer', '--name', 'wall', '--data-dir', server.dataDir])).out.trim()
    const first = await connectDashboard(server.url, TEST_TOKENS.viewer)
    // Another viewer token, another name: its own allowance.
    const second = await connectDashboard(server.url, wall)
    expect(second.welcome.role).toBe('viewer')
    const third = await refusal(dashboardClient(server.url, wall))
    expect(third).toBe('too_many_viewers')
    first.socket.disconnect()
    second.socket.disconnect()
  })
})
