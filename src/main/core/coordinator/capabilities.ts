/** Which agent may run which task: the capability rule, in one place. */
import type { Task } from '../../../shared/domain'
import type { TaskSubmit } from '../../../shared/commands'
import { agentRunsTask, type RoutingPolicy } from '../../../shared/routing'
import type { AgentEntry } from './agent-roster'

/**
 * Kinds that run real commands on an agent's machine: a task of such a kind
 * requires the capability of the same name, so it goes only to agents that
 * declare they can run it (local agents, or remote ones that say `shell` —
 * and those only while the routing policy allows it: src/shared/routing.ts),
 * never to demo agents or to remote agents that did not ask for it.
 */
const KINDS_REQUIRING_THEIR_CAPABILITY: ReadonlySet<string> = new Set(['shell'])

/** The task's capabilities, plus the one its kind requires; stored on the task, so the rule shows in the API. */
export function requiredCapabilities(request: Pick<TaskSubmit, 'kind' | 'capabilities'>): string[] {
  const needed = [...new Set(request.capabilities)]
  if (KINDS_REQUIRING_THEIR_CAPABILITY.has(request.kind) && !needed.includes(request.kind)) needed.push(request.kind)
  return needed
}

export function canRun(entry: AgentEntry, task: Task, policy: RoutingPolicy): boolean {
  return agentRunsTask(entry.agent, task, policy)
}
