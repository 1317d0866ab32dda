import type { Agent, Task } from './domain'

/**
 * What the server's operator decided about routing, beyond each agent's kinds
 * and capabilities. The server sends it to viewers in `welcome`, so the
 * dashboard explains a waiting task by the same rule the coordinator applies.
 */
export interface RoutingPolicy {
  /**
   * Whether remote agents may run `shell` tasks (`--allow-remote-shell-agents`,
   * default off). Not to be confused with `--allow-remote-shell`, which is about
   * who may submit them.
   */
  remoteShellAgents: boolean
}

export const DEFAULT_ROUTING_POLICY: Readonly<RoutingPolicy> = Object.freeze({ remoteShellAgents: false })

/**
 * Kinds that run commands with the environment the task carries: they stay on
 * the server's own (local) agents unless the policy lets remote agents take them.
 */
export const LOCAL_KINDS: readonly string[] = ['shell']

/** Why an agent may not be given a task; null when it may. */
export type RoutingBar = 'kind' | 'capabilities' | 'remote_not_allowed'

type RoutedAgent = Pick<Agent, 'kind' | 'kinds' | 'capabilities'>
type RoutedTask = Pick<Task, 'kind' | 'capabilities'>

/** The first reason `agent` may not run `task`, or null. */
export function routingBar(
  agent: RoutedAgent,
  task: RoutedTask,
  policy: RoutingPolicy = DEFAULT_ROUTING_POLICY,
): RoutingBar | null {
  if (agent.kinds !== null && !agent.kinds.includes(task.kind)) return 'kind'
  if (!task.capabilities.every((capability) => agent.capabilities.includes(capability))) return 'capabilities'
  if (agent.kind === 'remote' && LOCAL_KINDS.includes(task.kind) && !policy.remoteShellAgents) {
    return 'remote_not_allowed'
  }
  return null
}

/**
 * Whether an agent may be given a task: it runs the task's kind (an agent
 * that names no kinds runs any), has every capability the task needs, and —
 * for a `shell` task — is a local agent, or a remote one while the policy
 * allows it. The coordinator assigns by this rule; the dashboard uses it to
 * say what a queued task is waiting for.
 */
export function agentRunsTask(agent: RoutedAgent, task: RoutedTask, policy?: RoutingPolicy): boolean {
  return routingBar(agent, task, policy) === null
}

/**
 * Why no agent among `agents` runs `task`, as a sentence for the dashboard;
 * null when one does. Names the policy when it is what stands in the way of
 * an agent that would otherwise run the task.
 */
export function whyNoAgentRuns(
  agents: Iterable<RoutedAgent>,
  task: RoutedTask,
  policy: RoutingPolicy = DEFAULT_ROUTING_POLICY,
): string | null {
  let barredByPolicy = false
  for (const agent of agents) {
    const bar = routingBar(agent, task, policy)
    if (bar === null) return null
    if (bar === 'remote_not_allowed') barredByPolicy = true
  }
  if (barredByPolicy) {
    return `No agent may run ${task.kind} tasks: remote agents are not allowed to (the server runs without --allow-remote-shell-agents).`
  }
  const needs = task.capabilities.length ? ` with ${task.capabilities.join(', ')}` : ''
  return `No agent can run this task now: none runs ${task.kind} tasks${needs}.`
}
