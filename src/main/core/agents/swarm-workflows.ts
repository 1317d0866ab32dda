/**
 * A swarm file's workflows at start, and the whole file's start
 * (docs/agents.md, "Swarm files"). As with its tasks (`swarm-tasks.ts`), each
 * workflow and each of its tasks has a stable id, made from the file's path,
 * the workflow as written and which copy of it it is: a restart does not
 * submit a workflow again while the history holds any of its tasks. A
 * workflow changed in the file is a new workflow.
 */
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import type { Coordinator } from '../coordinator/coordinator'
import type { WorkflowIds } from '../coordinator/workflow-actions'
import type { SwarmFile, SwarmWorkflow } from '../config/swarm-file'
import {
  canonical,
  enqueueSwarmTasks,
  planSwarmTasks,
  warnUnrunnable,
  type EnqueueDeps,
  type SwarmTaskPlan,
} from './swarm-tasks'

export interface SwarmWorkflowPlan {
  file: string
  /** Workflows to submit, with their stable ids. */
  submit: { ids: WorkflowIds; workflow: SwarmWorkflow }[]
  /** Workflows some of whose tasks the history holds: not submitted again. */
  kept: { ids: WorkflowIds; name: string }[]
}

const digest = (value: unknown) => createHash('sha256').update(canonical(value)).digest('hex').slice(0, 24)

/** What the file wrote: the order the checks derived is not part of it. */
const asWritten = ({ name, tasks }: SwarmWorkflow) => ({ name, tasks })

/** The stable ids of the `copy`-th (0-based) workflow of the file written exactly as `workflow`: its own, each key's. */
export function swarmWorkflowIds(file: string, workflow: SwarmWorkflow, copy: number): WorkflowIds {
  const workflowId = `w-s-${digest([resolve(file), asWritten(workflow), copy])}`
  return { workflowId, taskIds: new Map(workflow.tasks.map(({ key }) => [key, `s-${digest([workflowId, key])}`])) }
}

/** Which of the file's workflows to submit: those none of whose tasks are among `stored` (the history's, at start). */
export function planSwarmWorkflows(
  file: string,
  workflows: readonly SwarmWorkflow[],
  stored: ReadonlySet<string>,
): SwarmWorkflowPlan {
  const copies = new Map<string, number>()
  const plan: SwarmWorkflowPlan = { file, submit: [], kept: [] }
  for (const workflow of workflows) {
    const text = canonical(asWritten(workflow))
    const copy = copies.get(text) ?? 0
    copies.set(text, copy + 1)
    const ids = swarmWorkflowIds(file, workflow, copy)
    if ([...ids.taskIds.values()].some((id) => stored.has(id))) plan.kept.push({ ids, name: workflow.name })
    else plan.submit.push({ ids, workflow })
  }
  return plan
}

export interface SwarmPlan {
  tasks: SwarmTaskPlan
  workflows: SwarmWorkflowPlan
}

/** What a start with this swarm file submits, decided against the history as it was at start. */
export function planSwarm(file: string, swarm: SwarmFile, stored: ReadonlySet<string>): SwarmPlan {
  return {
    tasks: planSwarmTasks(file, swarm.tasks, stored),
    workflows: planSwarmWorkflows(file, swarm.workflows, stored),
  }
}

export interface StartDeps extends EnqueueDeps {
  coordinator: EnqueueDeps['coordinator'] & Pick<Coordinator, 'submitWorkflow'>
}

/**
 * Enqueues the plan's tasks and submits its workflows; logs what the history
 * held from before, and every queued task of the file no agent here runs.
 */
export function startSwarm(plan: SwarmPlan, deps: StartDeps): void {
  enqueueSwarmTasks(plan.tasks, deps)
  const { file, submit, kept } = plan.workflows
  for (const { ids, workflow } of submit) {
    try {
      deps.coordinator.submitWorkflow(workflow, ids)
    } catch (error) {
      // Only ids already taken can refuse it (the file was checked at load): the server is up, so say it and go on.
      deps.logger.error({ file, workflow: workflow.name, err: error }, 'swarm file workflow not submitted')
    }
  }
  if (kept.length > 0) {
    deps.logger.info(
      { file, kept: kept.length, workflows: kept.slice(0, 10).map((w) => `${w.name} (${w.ids.workflowId})`) },
      'swarm file workflows already in the history from an earlier start: not submitted again',
    )
  }
  const taskIds = [
    ...[...plan.tasks.enqueue, ...plan.tasks.kept].map(({ id }) => id),
    ...[...submit, ...kept].flatMap(({ ids }) => [...ids.taskIds.values()]),
  ]
  warnUnrunnable(file, taskIds, deps)
}
