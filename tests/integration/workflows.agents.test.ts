/**
 * The proof: one workflow of 200 tasks through a real server, its
 * `shell` tasks run by real local agents (child processes) and its other
 * kinds by the demo swarm, which keeps its own synthetic stream going
 * beside it. Every task runs once, none before its dependencies finished,
 * and a viewer sees each one succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { taskStatusOf } from '../../src/shared/changes'
import type { TaskDetail, TaskStatus } from '../../src/shared/domain'
import type { WorkflowDetail, WorkflowSubmitted } from '../../src/shared/workflows'
import {
  TEST_TOKENS,
  connectDashboard,
  getJson,
  postJson,
  startCore,
  until,
  type DashboardSocket,
} from '../helpers/core'

interface Spec {
  key: string
  name: string
  kind: string
  payload?: unknown
  capabilities?: string[]
  dependsOn: string[]
}

/** The demo's kinds and the capability each needs (src/main/core/demo/demo-swarm.ts). */
const DEMO = { crawl: ['net'], render: ['gpu'], compile: ['cpu'], etl: ['io'], report: [] } as const
const shell = (key: string, command: string, dependsOn: string[]): Spec => ({
  key,
  name: `${key}: ${command}`,
  kind: 'shell',
  payload: { command },
  dependsOn,
})
const demo = (key: string, kind: keyof typeof DEMO, dependsOn: string[]): Spec => ({
  key,
  name: key,
  kind,
  payload: { size: 1 },
  capabilities: [...DEMO[kind]],
  dependsOn,
})
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/**
 * A release pipeline: set up; fan out 40 fetches, each parsed by a command,
 * fanned in to one merge; fan out again to 30 renders, each thumbnailed;
 * four chains of ten steps beside all that; 16 reports each joining two
 * thumbnails and a chain's end; then package and publish.
 */
function pipeline(): Spec[] {
  const chainEnd = (c: number) => `chain-${c}-9`
  return [
    shell('setup', 'true', []),
    ...range(40).map((i) => demo(`fetch-${i}`, 'crawl', ['setup'])),
    ...range(40).map((i) => shell(`parse-${i}`, `echo parsed ${i}`, [`fetch-${i}`])),
    shell(
      'merge',
      'true',
      range(40).map((i) => `parse-${i}`),
    ),
    ...range(30).map((j) => demo(`render-${j}`, 'render', ['merge'])),
    ...range(30).map((j) => shell(`thumb-${j}`, 'true', [`render-${j}`])),
    ...range(4).flatMap((c) =>
      range(10).map((s) =>
        s % 2 === 0
          ? demo(`chain-${c}-${s}`, 'compile', [s === 0 ? 'setup' : `chain-${c}-${s - 1}`])
          : shell(`chain-${c}-${s}`, `echo step ${s}`, [`chain-${c}-${s - 1}`]),
      ),
    ),
    ...range(16).map((k) =>
      demo(`report-${k}`, 'etl', [`thumb-${(2 * k) % 30}`, `thumb-${(2 * k + 1) % 30}`, chainEnd(k % 4)]),
    ),
    shell('package', 'echo packaged', [...range(16).map((k) => `report-${k}`), ...range(4).map(chainEnd)]),
    demo('publish', 'report', ['package']),
  ]
}

describe('a workflow of 200 tasks through the demo swarm and real local agents', () => {
  let core: Awaited<ReturnType<typeof startCore>>
  let socket: DashboardSocket
  beforeAll(async () => {
    // Demo tasks of 20 to 160 ms, none failing, so that every task can be expected to run exactly once.
    core = await startCore(['--demo-agents', '6', '--demo-rate', '5', '--local-agents', '3'], {
      demoSpeed: 0.02,
      demoFailureRate: 0,
    })
  })
  afterAll(async () => {
    socket?.disconnect()
    await core?.stop()
  })

  it('runs every task once, each after its dependencies finished; 100 % succeeded; seen live', async () => {
    const tasks = pipeline()
    expect(tasks.length).toBe(200)
    expect(new Set(tasks.map((task) => task.kind))).toEqual(new Set(['shell', ...Object.keys(DEMO)]))

    ;({ socket } = await connectDashboard(core.url, TEST_TOKENS.viewer))
    const seen = new Map<string, Set<TaskStatus>>()
    socket.on('events', (events) => {
      for (const event of events) {
        const change = taskStatusOf(event)
        if (!change) continue
        if (!seen.has(change.taskId)) seen.set(change.taskId, new Set())
        seen.get(change.taskId)!.add(change.status)
      }
    })

    const response = await postJson(`${core.url}/api/workflows`, { name: 'release 200', tasks }, TEST_TOKENS.operator)
    expect(response, JSON.stringify(response.body)).toMatchObject({ status: 201 })
    const submitted = response.body as WorkflowSubmitted
    const idOf = new Map(submitted.tasks.map((task) => [task.key, task.id]))

    const workflow = async () =>
      (await getJson(`${core.url}/api/workflows/${submitted.id}`, TEST_TOKENS.viewer)).body as WorkflowDetail
    let detail = await workflow()
    const deadline = Date.now() + 60_000
    while (detail.state === 'active' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      detail = await workflow()
    }
    expect(detail.state).toBe('succeeded')
    expect(detail.progress).toMatchObject({ total: 200, done: 1, missing: 0, byStatus: { succeeded: 200 } })
    // In an order where each task comes after its dependencies, not necessarily the submission's.
    expect(new Map(detail.tasks.map((task) => [task.key, task.status]))).toEqual(
      new Map(tasks.map((task) => [task.key, 'succeeded'])),
    )

    const details = new Map<string, TaskDetail>()
    for (let at = 0; at < tasks.length; at += 20) {
      const batch = await Promise.all(
        tasks
          .slice(at, at + 20)
          .map(async (task) => (await getJson(`${core.url}/api/tasks/${idOf.get(task.key)}`, TEST_TOKENS.viewer)).body),
      )
      for (const [i, body] of batch.entries()) details.set(tasks[at + i]!.key, body as TaskDetail)
    }
    for (const task of tasks) {
      const done = details.get(task.key)!
      expect(done, task.key).toMatchObject({ status: 'succeeded', attempts: 1, requeues: 0 })
      expect(
        done.transitions.map((step) => step.status),
        task.key,
      ).toEqual(['queued', 'assigned', 'running', 'succeeded'])
      expect(done.agentId, task.key).toMatch(task.kind === 'shell' ? /^local-\d$/ : /^demo-\d\d$/)
      // Given to an agent (and so started) only once everything it depends on had finished.
      const assignedAt = done.transitions.find((step) => step.status === 'assigned')!.at
      for (const key of task.dependsOn) {
        const dependency = details.get(key)!
        expect(dependency.finishedAt, `${key} before ${task.key}`).not.toBeNull()
        expect(assignedAt, `${task.key} assigned after ${key} finished`).toBeGreaterThanOrEqual(dependency.finishedAt!)
        expect(done.startedAt!, `${task.key} started after ${key} finished`).toBeGreaterThanOrEqual(
          dependency.finishedAt!,
        )
      }
    }
    expect(details.get('parse-7')!.logs.map((line) => line.message)).toEqual(['parsed 7'])

    // The viewer's stream carried each task to succeeded (batched: it may skip steps between, never the end).
    await until(
      () => submitted.tasks.every((task) => seen.get(task.id)?.has('succeeded')),
      5000,
      'every task succeeded on the /dashboard stream',
    )
  }, 90_000)
})
