/**
 * Dependencies and workflows on a PostgreSQL history: a workflow is refused
 * whole (503, nothing stored) while the database is gone, and after a restart
 * on the same database its waiting tasks still wait and are released in order.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Task } from '../../src/shared/domain'
import type { WorkflowDetail, WorkflowSubmitted } from '../../src/shared/workflows'
import { closeAgents, manualAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'

const pg = postgresForSuite()

const cores: { stop(): Promise<void> }[] = []
afterEach(async () => {
  pg().resume()
  await closeAgents()
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

async function serve(database: string) {
  const core = await startCore(['--no-demo', '--database', database])
  cores.push(core)
  return core
}

const CHAIN = {
  name: 'nightly',
  tasks: [
    { key: 'extract', name: 'extract', kind: 'k' },
    { key: 'transform', name: 'transform', kind: 'k', dependsOn: ['extract'] },
    { key: 'load', name: 'load', kind: 'k', dependsOn: ['transform'] },
  ],
}

describe('dependencies on PostgreSQL', () => {
  it('refuses a workflow whole while the database is gone, and keeps waiting tasks waiting across a restart', async () => {
    const { url: database } = await pg().createDatabase()
    const first = await serve(database)
    const submitted = (await postJson(`${first.url}/api/workflows`, CHAIN, TEST_TOKENS.operator))
      .body as WorkflowSubmitted
    expect(submitted.tasks).toHaveLength(3)

    pg().halt()
    const refused = await postJson(`${first.url}/api/workflows`, { ...CHAIN, name: 'refused' }, TEST_TOKENS.operator)
    expect(refused.status).toBe(503)
    pg().resume()
    await first.stop()
    cores.length = 0

    const second = await serve(database)
    const list = (await getJson(`${second.url}/api/workflows`, TEST_TOKENS.viewer)).body as {
      workflows: { name: string }[]
    }
    // The refused one was never accepted: if any of its tasks reached the database, it is there cancelled.
    const stored = await pg().sql(new URL(database).pathname.slice(1), 'SELECT data FROM tasks')
    for (const row of stored) {
      const task = JSON.parse(String(row.data)) as Task
      if (task.workflow?.name === 'refused') expect(task.status).toBe('cancelled')
    }
    expect(list.workflows.map((w) => w.name)).toContain('nightly')
    const detail = (await getJson(`${second.url}/api/workflows/${submitted.id}`, TEST_TOKENS.viewer))
      .body as WorkflowDetail
    expect(detail.tasks.map((task) => [task.key, task.status, task.dependsOn])).toEqual([
      ['extract', 'queued', []],
      ['transform', 'queued', ['extract']],
      ['load', 'queued', ['transform']],
    ])

    const { assigned, succeed } = await manualAgent(second.url, 'pg-w', 4)
    const id = (key: string) => submitted.tasks.find((task) => task.key === key)!.id
    for (const key of ['extract', 'transform', 'load']) {
      await until(() => assigned.includes(id(key)), 5000, key)
      expect(assigned).toHaveLength(['extract', 'transform', 'load'].indexOf(key) + 1)
      await succeed(id(key))
    }
  })
})
