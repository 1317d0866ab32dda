/**
 * A swarm file's workflows through real servers on one data dir and a real
 * file: submitted once at start, run in dependency order by real local
 * agents, not submitted again by a restart while the history holds them (a
 * finished one and one still waiting alike); a workflow changed in the file
 * is a new one.
 */
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TaskDetail } from '../../src/shared/domain'
import type { WorkflowDetail, WorkflowSummary } from '../../src/shared/workflows'
import { readLogs } from '../security/support'
import { TEST_TOKENS, getJson, startCore, until } from '../helpers/core'

type Core = Awaited<ReturnType<typeof startCore>>
const cores: Core[] = []
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.stop()))
})

/** A release (build, then test and lint, then deploy) that local agents run, and a render nobody here runs. */
const SWARM = `
agents:
  - name: builder
    count: 2
workflows:
  - name: release
    tasks:
      - key: deploy
        name: deploy
        kind: shell
        payload: { command: 'echo deployed' }
        dependsOn: [test, lint]
      - key: build
        name: build
        kind: shell
        payload: { command: pwd, cwd: . }
      - { key: test, name: test, kind: shell, payload: { command: 'sleep 0.1' }, dependsOn: [build] }
      - { key: lint, name: lint, kind: shell, payload: { command: 'true' }, dependsOn: [build] }
  - name: frames
    tasks:
      - { key: render, name: render the frames, kind: render, capabilities: [tpu] }
      - { key: encode, name: encode, kind: shell, payload: { command: 'true' }, dependsOn: [render] }
`

function swarmFile(text: string): string {
  const file = join(realpathSync(mkdtempSync(join(tmpdir(), 'sm-swarm-wf-'))), 'swarm.yaml')
  writeFileSync(file, text)
  return file
}

async function start(file: string, dataDir?: string): Promise<Core> {
  const argv = ['--swarm', file, '--local-agents', '0', '--log-level', 'info']
  const core = await startCore(dataDir ? [...argv, '--data-dir', dataDir] : argv)
  cores.push(core)
  return core
}

const workflows = async (core: Core) =>
  ((await getJson(`${core.url}/api/workflows`, TEST_TOKENS.viewer)).body as { workflows: WorkflowSummary[] }).workflows
const workflow = async (core: Core, id: string) =>
  (await getJson(`${core.url}/api/workflows/${id}`, TEST_TOKENS.viewer)).body as WorkflowDetail
const taskIds = (core: Core) =>
  core.coordinator
    .listTasks({ limit: 100 })
    .tasks.map((task) => task.id)
    .sort()

describe('swarm file workflows', () => {
  it('are submitted once: they run in order, and a restart with the same file does not submit them again', async () => {
    const file = swarmFile(SWARM)
    const first = await start(file)
    const listed = await workflows(first)
    expect(listed.map((w) => [w.name, w.progress.total]).sort()).toEqual([
      ['frames', 2],
      ['release', 4],
    ])
    const release = listed.find((w) => w.name === 'release')!
    expect(release.id).toMatch(/^w-s-[0-9a-f]{24}$/)
    let detail = await workflow(first, release.id)
    const started = Date.now()
    while (detail.state === 'active' && Date.now() - started < 8000) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      detail = await workflow(first, release.id)
    }
    expect(detail).toMatchObject({ state: 'succeeded', progress: { done: 1 } })
    const byKey = new Map(detail.tasks.map((task) => [task.key, task.id]))
    const task = async (key: string) =>
      (await getJson(`${first.url}/api/tasks/${byKey.get(key)}`, TEST_TOKENS.viewer)).body as TaskDetail
    const [build, test, lint, deploy] = await Promise.all(['build', 'test', 'lint', 'deploy'].map(task))
    // A relative cwd is the file's folder; each task ran after what it depends on finished.
    expect(build!.logs.map((line) => line.message)).toEqual([dirname(file)])
    expect(build!.agentId).toMatch(/^local-builder-[12]$/)
    for (const later of [test!, lint!]) expect(later.startedAt!).toBeGreaterThanOrEqual(build!.finishedAt!)
    expect(deploy!.startedAt!).toBeGreaterThanOrEqual(Math.max(test!.finishedAt!, lint!.finishedAt!))
    expect(deploy!.dependsOn).toEqual([byKey.get('test'), byKey.get('lint')])

    // Nobody here runs render: said at start; frames waits, encode behind render.
    await until(() => /swarm file tasks wait/.test(readLogs(first.dataDir)), 3000, 'the warning')
    const frames = await workflow(first, listed.find((w) => w.name === 'frames')!.id)
    expect(frames.tasks.map((t) => [t.key, t.status])).toEqual([
      ['render', 'queued'],
      ['encode', 'queued'],
    ])
    const ids = taskIds(first)
    expect(ids).toHaveLength(6)
    await cores.pop()!.stop()

    const second = await start(file, first.dataDir)
    expect((await workflows(second)).map((w) => [w.id, w.name]).sort()).toEqual(
      listed.map((w) => [w.id, w.name]).sort(),
    )
    expect(taskIds(second)).toEqual(ids)
    expect(await workflow(second, release.id)).toMatchObject({ state: 'succeeded', progress: { total: 4 } })
    expect((await workflow(second, frames.id)).state).toBe('active')
    await until(() => /not submitted again/.test(readLogs(first.dataDir)), 3000, 'the "already there" line')
    const kept = readLogs(first.dataDir)
      .split('\n')
      .filter((line) => line.includes('swarm file workflows already in the history'))
    expect(kept).toHaveLength(1)
    expect(JSON.parse(kept[0]!)).toMatchObject({
      kept: 2,
      workflows: expect.arrayContaining([`release (${release.id})`]),
    })

    // A workflow changed in the file is a new workflow; the unchanged one stays as it was.
    await cores.pop()!.stop()
    writeFileSync(file, SWARM.replace("command: 'echo deployed'", "command: 'echo shipped'"))
    const third = await start(file, first.dataDir)
    const now = await workflows(third)
    expect(now.map((w) => w.name).sort()).toEqual(['frames', 'release', 'release'])
    expect(now.filter((w) => w.name === 'release' && w.id !== release.id)).toHaveLength(1)
    expect(taskIds(third)).toHaveLength(10)
  })
})
