/**
 * Messages agents send on `/agents`: zod schemas the server validates every
 * message against, and the types the SDK (and any other client) compiles
 * against. docs/agents.md documents them for agent authors.
 */
import { z } from 'zod'
import { CapabilitySchema } from './domain'
import { LOG_LEVELS } from './statuses'
import { TASK_LIMITS } from './task-limits'

/** How often an agent says it is alive (`agent:heartbeat`). */
export const AGENT_HEARTBEAT_INTERVAL_MS = 5000
/** Silence after which the server marks an agent offline and requeues its tasks (server default). */
export const AGENT_HEARTBEAT_TIMEOUT_MS = 15_000
/** How long an offline remote agent stays listed before it is removed (server default). */
export const AGENT_OFFLINE_GRACE_MS = 10 * 60_000

/**
 * Why the server closed an agent's connection; sent as `agent:closed` just
 * before it does. `replaced`: a newer connection presented this one's
 * `sessionKey` (the same agent, back on a new link) and took the id over.
 */
export const AGENT_CLOSE_REASONS = ['replaced', 'heartbeat_timeout'] as const
export type AgentCloseReason = (typeof AGENT_CLOSE_REASONS)[number]

const TaskId = z.string().min(1).max(128)

export const AgentIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'agent ids are letters, digits and _ . : -')

export const AgentRegistrationSchema = z
  .object({
    id: AgentIdSchema,
    name: z.string().min(1).max(200),
    capabilities: z.array(CapabilitySchema).max(32),
    concurrency: z.number().int().min(1).max(256).optional(),
    /** The task kinds this agent runs; absent: any kind its capabilities allow. */
    kinds: z.array(z.string().min(1).max(TASK_LIMITS.kindLength)).min(1).max(64).optional(),
    /**
     * The `sessionKey` of this agent's last registration ack: proves a reconnect
     * comes from the same process, which may then take its id over at once from
     * a connection that is still open (half-open). Without it, an id held by a
     * live connection is refused with `conflict` until that connection ends.
     */
    sessionKey: z.string().min(1).max(128).optional(),
    /**
     * Tasks this agent process is still running, or has finished without its report delivered yet: after a
     * reconnect, a server restart or a cluster failover, those that were its are given back to it (the same
     * attempt) instead of being queued for another agent.
     */
    running: z.array(TaskId).max(256).optional(),
  })
  .strict()
export type AgentRegistration = z.infer<typeof AgentRegistrationSchema>

/** The `agent:register` ack's data. */
export interface AgentRegistered {
  agentId: string
  /** A secret for this connection's session; present it in the next registration to take over at once. */
  sessionKey: string
  /**
   * Of the tasks the registration named as `running`, those that are this agent's again: report on them as
   * before. The others were queued again (or ended) meanwhile: stop them and drop their reports. Absent from
   * servers older than `running`.
   */
  resumed?: string[]
}

export const TaskProgressSchema = z
  .object({
    taskId: TaskId,
    progress: z.number().min(0).max(1),
    message: z.string().max(1000).optional(),
  })
  .strict()
export type TaskProgress = z.infer<typeof TaskProgressSchema>

export const TaskCompleteSchema = z
  .object({
    taskId: TaskId,
    // Any JSON value; the 64 KiB message limit bounds it.
    result: z.unknown().optional(),
  })
  .strict()
export type TaskComplete = z.infer<typeof TaskCompleteSchema>

export const TaskFailSchema = z
  .object({
    taskId: TaskId,
    error: z.string().min(1).max(8192),
  })
  .strict()
export type TaskFail = z.infer<typeof TaskFailSchema>

export const AgentMetricsSchema = z
  .object({
    /** CPU use in percent, as the agent measures it (over 100 on several busy cores is fine). */
    cpu: z.number().min(0).max(100_000).optional(),
    memoryMb: z.number().min(0).max(1e9).optional(),
  })
  .strict()
export type AgentMetrics = z.infer<typeof AgentMetricsSchema>

export const AgentLogSchema = z
  .object({
    taskId: TaskId.optional(),
    level: z.enum(LOG_LEVELS),
    message: z.string().max(16_384),
  })
  .strict()
export type AgentLog = z.infer<typeof AgentLogSchema>

/** `agent:heartbeat` carries nothing: no payload, `{}` or `null` are accepted. */
export const AgentHeartbeatSchema = z.object({}).strict().nullish()

export interface AgentClosed {
  reason: AgentCloseReason
  message: string
}
