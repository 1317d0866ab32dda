/**
 * The status lists and the rules about statuses, as the server has them.
 * They come from the zod-free `src/shared/statuses.ts`, never from
 * `shared/domain.ts`, whose schemas would pull zod into the page bundle.
 */
import { AGENT_STATUSES, TASK_STATUSES, isTerminal } from '../../shared/statuses'
import type { AgentStatus, TaskStatus } from '../../shared/statuses'

export const AGENT_STATUS_LIST: readonly AgentStatus[] = AGENT_STATUSES
export const TASK_STATUS_LIST: readonly TaskStatus[] = TASK_STATUSES

export const isTerminalStatus: (status: TaskStatus) => boolean = isTerminal

export { LOG_LEVELS, isCancellable, isFailure, isOnAgent, isRetryable, ranToItsEnd } from '../../shared/statuses'
