/**
 * The server on a PostgreSQL history (`--database postgres://…`), against a
 * real PostgreSQL this file starts: the documented setup works, a database
 * that cannot be used stops the start in one line with exit code 2, and one
 * that goes away while the server runs refuses submissions (503, never
 * accepted and lost), raises an alert, and is taken back when it returns.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Alert, Task, TaskDetail } from '../../src/shared/domain'
import type { Snapshot } from '../../src/shared/protocol'
import { TEST_TOKENS, TOKEN_ENV, connectDashboard, getJson, postJson, startCore, eventually } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'
import { builtEntry, run, type RunningProcess } from '../helpers/process'

const pg = postgresForSuite()

const cores: { stop(): Promise<void> }[] = []
const processes: RunningProcess[] = []
afterEach(async () => {
  pg().resume()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
  await Promise.all(processes.splice(0).map((server) => server.stop()))
})

async function serve(database: string) {
  const core = await startCore(['--no-demo', '--database', database])
  cores.push(core)
  return core
}

const submit = (url: string, name: string) =>
  postJson(`${url}/api/tasks`, { name, kind: 'report', capabilities: ['nowhere'] }, TEST_TOKENS.operator)

async function alerts(url: string): Promise<Alert[]> {
  return ((await getJson(`${url}/api/snapshot`, TEST_TOKENS.viewer)).body as Snapshot).alerts ?? []
}

describe('a PostgreSQL history', () => {
  it('works with the setup docs/deployment.md gives: its own user, a database it owns', async () => {
    const name = `swarm_${Date.now()}`
    await pg().sql('postgres', `CREATE ROLE ${name} LOGIN PASSWORD 'a secret'`)
    await pg().sql('postgres', `CREATE DATABASE ${name} OWNER ${name}`)
    const url = pg().url(name, name, 'a secret')
    const first = await serve(url)
    const accepted = await submit(first.url, 'kept')
    expect(accepted.status).toBe(201)
    await first.stop()
    cores.splice(0)

    const again = await serve(url)
    const id = (accepted.body as Task).id
    const detail = (await getJson(`${again.url}/api/tasks/${id}`, TEST_TOKENS.viewer)).body as TaskDetail
    expect(detail).toMatchObject({ id, status: 'queued', transitions: [{ status: 'queued' }] })
  })

  it('refuses submissions with 503 while the database is gone, raises an alert, and takes them again when it is back', async () => {
    const { url: database } = await pg().createDatabase()
    const core = await serve(database)
    const before = await submit(core.url, 'before')
    expect(before.status).toBe(201)
    const { socket } = await connectDashboard(core.url, TEST_TOKENS.operator)

    pg().halt()
    // Whether the server has noticed yet or finds out from this very commit: never 201 while it is gone.
    for (let i = 0; i < 5; i++) {
      const refused = await submit(core.url, `during ${i}`)
      expect(refused.status).toBe(503)
      expect(refused.body).toMatchObject({
        error: { code: 'unavailable', message: expect.stringContaining('history database') },
      })
    }
    expect(await socket.emitWithAck('task:submit', { name: 'over socket', kind: 'report' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    })
    const raised = await eventually(
      () => alerts(core.url),
      (list) => list.some((a) => a.rule === 'history-unavailable' && !a.resolvedAt),
      'the alert',
      20_000,
    )
    expect(raised.find((a) => a.rule === 'history-unavailable')).toMatchObject({
      severity: 'critical',
      message: expect.stringContaining('new tasks are refused (503)'),
    })
    // A change while it is gone waits in memory and is written later.
    const cancelled = await postJson(
      `${core.url}/api/tasks/${(before.body as Task).id}/cancel`,
      {},
      TEST_TOKENS.operator,
    )
    expect(cancelled.status).toBe(200)

    pg().resume()
    const back = await eventually(
      () => submit(core.url, 'after'),
      (response) => response.status === 201,
      'a submission to be accepted again',
      20_000,
    )
    expect(back.body).toMatchObject({ status: 'queued' })
    await eventually(
      () => alerts(core.url),
      (list) => list.some((a) => a.rule === 'history-unavailable' && a.resolvedAt),
      'the alert to resolve',
      20_000,
    )
    const detail = (await getJson(`${core.url}/api/tasks/${(before.body as Task).id}`, TEST_TOKENS.viewer))
      .body as TaskDetail
    expect(detail.transitions.map((t) => t.status)).toEqual(['queued', 'cancelled'])
    // Nothing refused was stored as accepted: the only tasks are the two that heard 201.
    const stored = await pg().sql(new URL(database).pathname.slice(1), 'SELECT data FROM tasks')
    const names = stored.map((row) => (JSON.parse(String(row.data)) as Task).name).sort()
    expect(names.filter((name) => !name.startsWith('during') && name !== 'over socket')).toEqual(['after', 'before'])
    for (const row of stored) {
      const task = JSON.parse(String(row.data)) as Task
      if (task.name !== 'after' && task.name !== 'before') expect(task.status).toBe('cancelled')
    }
    socket.disconnect()
  })
})

describe('a PostgreSQL connection dropped while idle', () => {
  it('is not an outage: the next submission is accepted and no alert is raised', async () => {
    const { name, url: database } = await pg().createDatabase()
    const core = await serve(database)
    expect((await submit(core.url, 'first')).status).toBe(201)
    // What a server-side idle timeout or a pooler does: the idle connections are cut, the server stays up.
    const cut = await pg().sql(
      'postgres',
      "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = $1 AND application_name = 'swarm-monitor' AND state = 'idle'",
      [name],
    )
    expect(cut.length).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (let i = 0; i < 3; i++) expect((await submit(core.url, `next ${i}`)).status).toBe(201)
    await new Promise((resolve) => setTimeout(resolve, 1200))
    expect((await alerts(core.url)).filter((a) => a.rule === 'history-unavailable')).toEqual([])
  })
})

describe('a PostgreSQL history that cannot be used at start', () => {
  const start = (database: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-pg-start-'))
    const args = ['--port', '0', '--data-dir', dataDir, '--no-demo', '--local-agents', '0', '--database', database]
    const server = run(builtEntry('cli'), args, TOKEN_ENV)
    processes.push(server)
    return server
  }
  const oneLine = (server: RunningProcess) => server.stderr().trim().split('\n')

  it('exits 2 in one line when it is unreachable, without the password', async () => {
    const closed = pg().port + 1
    const server = start(`postgres://swarm:hunter2@127.0.0.1:${closed}/swarm`)
    expect(await server.exited).toBe(2)
    expect(oneLine(server)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^swarm-monitor: cannot reach the history database postgres://swarm@127\\.0\\.0\\.1:${closed}/swarm: .*ECONNREFUSED`,
        ),
      ),
    ])
    expect(server.stderr() + server.stdout()).not.toContain('hunter2')
    expect(server.stdout()).not.toContain('listening on')
  })

  it('exits 2 in one line when it refuses the password or has no such database', async () => {
    const wrong = start(pg().url('postgres', 'postgres', 'not the password'))
    expect(await wrong.exited).toBe(2)
    expect(oneLine(wrong)).toEqual([
      expect.stringMatching(
        /^swarm-monitor: the history database \S+ refused the connection: password authentication failed/,
      ),
    ])
    const missing = start(pg().url('no_such_database'))
    expect(await missing.exited).toBe(2)
    expect(oneLine(missing)).toEqual([
      expect.stringMatching(/refused the connection: database "no_such_database" does not exist$/),
    ])
  })
})
