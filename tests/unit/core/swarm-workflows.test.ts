import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  planSwarm,
  planSwarmWorkflows,
  startSwarm,
  swarmWorkflowIds,
} from '../../../src/main/core/agents/swarm-workflows'
import { Coordinator, CoordinatorError } from '../../../src/main/core/coordinator/coordinator'
import { createLogger } from '../../../src/main/core/logger'
import type { SwarmWorkflow } from '../../../src/main/core/config/swarm-file'
import { WorkflowSubmitSchema } from '../../../src/shared/commands'

const workflow = (name: string, tasks: Record<string, unknown>[]): SwarmWorkflow =>
  WorkflowSubmitSchema.parse({ name, tasks: tasks.map((task) => ({ name: 'job', kind: 'k', ...task })) })
const RELEASE = [{ key: 'build' }, { key: 'test', dependsOn: ['build'] }]

describe('swarm file workflow ids', () => {
  it('are the same for the same workflow in the same file, whatever order its keys were written in', () => {
    const a = workflow('release', [
      { key: 'build', payload: { x: 1, y: 2 } },
      { key: 'test', dependsOn: ['build'] },
    ])
    const b = workflow('release', [
      { payload: { y: 2, x: 1 }, key: 'build' },
      { dependsOn: ['build'], key: 'test' },
    ])
    const ids = swarmWorkflowIds('/srv/swarm.yaml', a, 0)
    expect(swarmWorkflowIds('/srv/swarm.yaml', b, 0)).toEqual(ids)
    expect(ids.workflowId).toMatch(/^w-s-[0-9a-f]{24}$/)
    expect([...ids.taskIds.keys()]).toEqual(['build', 'test'])
    expect([...ids.taskIds.values()]).toEqual([expect.stringMatching(/^s-[0-9a-f]{24}$/), expect.any(String)])
    expect(new Set(ids.taskIds.values()).size).toBe(2)
    // Another file, another copy, another workflow (a task changed, or the name): other ids, its tasks' too.
    for (const other of [
      swarmWorkflowIds('/srv/other.yaml', a, 0),
      swarmWorkflowIds('/srv/swarm.yaml', a, 1),
      swarmWorkflowIds('/srv/swarm.yaml', workflow('release', [{ key: 'build', priority: 1 }]), 0),
      swarmWorkflowIds('/srv/swarm.yaml', workflow('release 2', RELEASE), 0),
    ]) {
      expect(other.workflowId).not.toBe(ids.workflowId)
      expect(other.taskIds.get('build')).not.toBe(ids.taskIds.get('build'))
    }
  })

  it('plan: copies count apart; a workflow any of whose tasks the history holds is kept, not submitted', () => {
    const workflows = [workflow('release', RELEASE), workflow('release', RELEASE), workflow('docs', [{ key: 'a' }])]
    const first = planSwarmWorkflows('/srv/swarm.yaml', workflows, new Set())
    expect(first.submit.map((w) => w.workflow.name)).toEqual(['release', 'release', 'docs'])
    expect(new Set(first.submit.map((w) => w.ids.workflowId)).size).toBe(3)
    expect(first.kept).toEqual([])
    // The history holds one task of the first copy only (retention took the other): that workflow is kept whole.
    const held = new Set([first.submit[0]!.ids.taskIds.get('test')!])
    const again = planSwarmWorkflows('/srv/swarm.yaml', workflows, held)
    expect(again.kept).toEqual([{ ids: first.submit[0]!.ids, name: 'release' }])
    expect(again.submit.map((w) => w.ids)).toEqual([first.submit[1]!.ids, first.submit[2]!.ids])
  })

  it('a workflow whose ids are taken is refused whole, said in the log; the others are submitted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-swarm-wf-'))
    const { logger, close } = createLogger({ dataDir, logLevel: 'info' }, { console: false })
    const coordinator = new Coordinator({ emit: () => {} })
    const release = workflow('release', RELEASE)
    const ids = swarmWorkflowIds('/srv/swarm.yaml', release, 0)
    // Only the test task's id is taken: nothing of the workflow is made, not even build, which comes first.
    coordinator.submit({ ...release.tasks[1]!, dependsOn: [] }, { id: ids.taskIds.get('test')! })
    expect(() => coordinator.submitWorkflow(release, ids)).toThrow(CoordinatorError)
    expect(coordinator.getTask(ids.taskIds.get('build')!)).toBeUndefined()

    const swarm = { agents: [], tasks: [], workflows: [release, workflow('docs', [{ key: 'a' }])] }
    startSwarm(planSwarm('/srv/swarm.yaml', swarm, new Set()), {
      coordinator,
      logger,
      routing: { remoteShellAgents: false },
    })
    expect(coordinator.listWorkflows(10).workflows.map((w) => w.name)).toEqual(['docs'])
    await close()
    const log = readFileSync(join(dataDir, 'logs', 'swarm-monitor.log'), 'utf8')
    expect(log).toMatch(/"workflow":"release".*swarm file workflow not submitted/)
  })
})
