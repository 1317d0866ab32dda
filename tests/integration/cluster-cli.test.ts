/**
 * Cluster mode through the built CLI (out/main/cli.js): `--redis` without a
 * PostgreSQL database is refused before anything starts; two node processes
 * on one Redis and one PostgreSQL elect one leader, and when the leader is
 * killed with SIGKILL the other takes over under the next term.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ClusterInfo } from '../../src/shared/cluster'
import { TEST_TOKENS, TOKEN_ENV, getJson, eventually } from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'
import { builtEntry, run, type RunningProcess } from '../helpers/process'
import { redisForSuite } from '../helpers/redis-suite'

const pg = postgresForSuite()
const redis = redisForSuite()

const running: RunningProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((node) => node.stop()))
})

const dataDir = () => mkdtempSync(join(tmpdir(), 'sm-cluster-'))

function node(id: string, database: string) {
  const args = ['--port', '0', '--data-dir', dataDir(), '--no-demo', '--local-agents', '0', '--node-id', id]
  const started = run(builtEntry('cli'), [...args, '--database', database, '--redis', redis().url], TOKEN_ENV)
  running.push(started)
  return started
}

const cluster = async (url: string) => (await getJson(`${url}/api/cluster`, TEST_TOKENS.viewer)).body as ClusterInfo

describe('cluster mode, built CLI', () => {
  it('refuses --redis without a postgres:// --database, naming what to add, and starts nothing', async () => {
    const dir = dataDir()
    const refused = run(builtEntry('cli'), ['--port', '0', '--data-dir', dir, '--redis', redis().url], TOKEN_ENV)
    running.push(refused)
    expect(await refused.exited).toBe(2)
    expect(refused.stderr()).toContain(
      'cluster mode (--redis) needs PostgreSQL for the history and the leader lock: add --database postgres://',
    )
    expect(refused.stdout()).not.toMatch(/listening on/)
  })

  it('elects one of two node processes; SIGKILL the leader and the other leads within 2 s, one term up', async () => {
    const { url: database } = await pg().createDatabase()
    const a = node('cli-a', database)
    const b = node('cli-b', database)
    const urls = await Promise.all(
      [a, b].map(async (started) => (await started.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!),
    )
    const both = await eventually(
      () => Promise.all(urls.map(cluster)),
      (infos) =>
        infos.every((info) => info.leader !== null && info.leader === infos[0]!.leader && info.nodes.length === 2),
      'both nodes to agree on a leader',
    )
    const leaderIndex = both[0]!.leader === 'cli-a' ? 0 : 1
    const survivor = urls[1 - leaderIndex]!
    expect(both[0]!.term).toBe(1)

    const killedAt = Date.now()
    ;[a, b][leaderIndex]!.child.kill('SIGKILL')
    const after = await eventually(
      () => cluster(survivor),
      (info) => info.leader === info.node,
      'the survivor to lead',
    )
    // Its kernel closed the dead leader's connection: PostgreSQL freed the lock at once; the next try took it.
    expect(Date.now() - killedAt).toBeLessThan(2_000)
    expect(after.term).toBe(2)
    const gone = await eventually(
      () => cluster(survivor),
      (info) => info.nodes.some((entry) => entry.id === both[0]!.leader && entry.gone),
      'the dead leader shown gone (5 s of silence)',
    )
    expect(gone.nodes.filter((entry) => !entry.gone).map((entry) => entry.id)).toEqual([after.node])
  }, 30_000)
})
