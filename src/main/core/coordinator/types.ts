/** The coordinator's contracts with the agents and with its readers. */
import type { AgentKind, Task } from '../../../shared/domain'

export interface AgentDriver {
  /** Starts work on a task the coordinator gave this agent. */
  assign(task: Task): void
  /** Stops work on a task (cancel, timeout); no report is expected afterwards. */
  cancel(taskId: string): void
}

export interface AgentSpec {
  id: string
  name: string
  kind: AgentKind
  capabilities: string[]
  concurrency?: number
  /** Task kinds this agent can run; absent: any kind (demo agents, remote ones that name none). Local agents run only `shell`. */
  kinds?: readonly string[]
  /** Tasks this agent says it still runs (a reconnect, the server restarted): given back to it when they were its. */
  running?: readonly string[]
}

export interface TaskQuery {
  status?: Task['status']
  agentId?: string
  limit?: number
}

export interface Totals {
  succeeded: number
  failed: number
  /** Tasks that reached any terminal state; `failed` counts failures and timeouts. */
  finished: number
}
