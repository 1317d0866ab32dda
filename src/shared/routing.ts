import type { Agent, Task } from './domain'

/**
 * Whether an agent may be given a task: it runs the task's kind (an agent
 * that names no kinds runs any) and has every capability the task needs.
 * The coordinator assigns by this rule; the dashboard uses it to say what a
 * queued task is waiting for.
 */
export function agentRunsTask(
  agent: Pick<Agent, 'kinds' | 'capabilities'>,
  task: Pick<Task, 'kind' | 'capabilities'>,
): boolean {
  return (
    (agent.kinds === null || agent.kinds.includes(task.kind)) &&
    task.capabilities.every((capability) => agent.capabilities.includes(capability))
  )
}
