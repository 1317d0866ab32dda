/**
 * Requests clients send: schemas validated by the server on every message,
 * types derived from them for the clients.
 */
import { z } from 'zod'
import { CapabilitySchema, TaskStatusSchema } from './domain'
import { CHANNELS } from './events'
import { KIND_LIMITS } from './kinds'
import { TASK_BULK_ACTIONS, TASK_BULK_LIMITS } from './task-bulk'
import { ENV_NAME_PATTERN, TASK_LIMITS } from './task-limits'
import { checkWorkflowGraph, WORKFLOW_KEY_PATTERN, WORKFLOW_LIMITS } from './workflows'

const Id = z.string().min(1).max(128)
const JsonRecord = z.record(z.string(), z.unknown())

/**
 * A string the operating system receives as a C string (a command, a path, an
 * environment value): a NUL byte would end it early, and Node's `spawn`
 * throws on one, so it is refused here, where the client hears why.
 */
const CString = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !value.includes('\0'), 'must not contain a NUL byte (\\0)')

export const ShellPayloadSchema = z.object({
  command: CString(TASK_LIMITS.commandLength, 1),
  cwd: CString(TASK_LIMITS.cwdLength).optional(),
  env: z.record(z.string().regex(ENV_NAME_PATTERN), CString(TASK_LIMITS.envValueLength)).optional(),
})
export type ShellPayload = z.infer<typeof ShellPayloadSchema>

/** The fields of a task, as a submission gives them: a single task's and a workflow's tasks share them. */
const TaskFields = {
  name: z.string().min(1).max(TASK_LIMITS.nameLength),
  kind: z.string().min(1).max(TASK_LIMITS.kindLength),
  payload: JsonRecord.default({}),
  priority: z.number().int().min(TASK_LIMITS.priority.min).max(TASK_LIMITS.priority.max).default(0),
  capabilities: z.array(CapabilitySchema).max(TASK_LIMITS.capabilities).default([]),
  timeoutMs: z.number().int().min(1).max(TASK_LIMITS.timeoutMs).nullable().default(null),
  maxRetries: z.number().int().min(0).max(TASK_LIMITS.maxRetries).default(0),
}

/** A shell task's payload is checked as one, each problem under `payload.`. */
function checkShellPayload(task: { kind: string; payload: unknown }, ctx: z.RefinementCtx): void {
  if (task.kind !== 'shell') return
  const parsed = ShellPayloadSchema.safeParse(task.payload)
  for (const issue of parsed.error?.issues ?? []) {
    ctx.addIssue({ code: 'custom', path: ['payload', ...issue.path], message: issue.message })
  }
}

/** No id twice: a task waits for each dependency once. */
const distinct = (values: readonly string[]) => new Set(values).size === values.length

export const TaskSubmitSchema = z
  .object({
    ...TaskFields,
    /** Ids of tasks that must succeed first; whether they exist is the coordinator's to say. */
    dependsOn: z.array(Id).max(TASK_LIMITS.dependsOn).refine(distinct, 'lists a task twice').optional(),
  })
  .strict()
  .superRefine(checkShellPayload)
export type TaskSubmitRequest = z.input<typeof TaskSubmitSchema>
export type TaskSubmit = z.output<typeof TaskSubmitSchema>

const WorkflowKey = z
  .string()
  .min(1)
  .max(WORKFLOW_LIMITS.keyLength)
  .regex(WORKFLOW_KEY_PATTERN, 'keys are letters, digits and _ . : -')

export const WorkflowTaskSchema = z
  .object({
    ...TaskFields,
    key: WorkflowKey,
    /** Keys of tasks of the same workflow that must succeed first. */
    dependsOn: z.array(WorkflowKey).max(TASK_LIMITS.dependsOn).default([]),
  })
  .strict()
  .superRefine(checkShellPayload)

/** `POST /api/workflows`, `workflow:submit`: a named graph, refused whole when any part is wrong. */
export const WorkflowSubmitSchema = z
  .object({
    name: z.string().min(1).max(WORKFLOW_LIMITS.nameLength),
    tasks: z.array(WorkflowTaskSchema).min(1).max(WORKFLOW_LIMITS.tasks),
  })
  .strict()
  .transform((workflow, ctx) => {
    const graph = checkWorkflowGraph(workflow.tasks)
    if (graph.ok) return { ...workflow, order: graph.order }
    for (const problem of graph.problems) ctx.addIssue({ code: 'custom', ...problem })
    return z.NEVER
  })
export type WorkflowSubmitRequest = z.input<typeof WorkflowSubmitSchema>
export type WorkflowSubmit = z.output<typeof WorkflowSubmitSchema>

/**
 * A change to one kind's limits (`PATCH /api/kinds/:kind`, `kind:update`): each field given replaces the kind's,
 * null clears a limit; at least one field.
 */
export const KindUpdateSchema = z
  .object({
    kind: z.string().min(1).max(TASK_LIMITS.kindLength),
    paused: z.boolean().optional(),
    maxRunning: z.number().int().min(1).max(KIND_LIMITS.maxRunning).nullable().optional(),
    maxPerMinute: z.number().int().min(1).max(KIND_LIMITS.maxPerMinute).nullable().optional(),
  })
  .strict()
  .refine((update) => Object.keys(update).length > 1, {
    message: 'give at least one of paused, maxRunning, maxPerMinute',
  })
export type KindUpdateRequest = z.infer<typeof KindUpdateSchema>

export const WorkflowRefSchema = z.object({ workflowId: Id }).strict()
export type WorkflowRef = z.infer<typeof WorkflowRefSchema>

export const TaskRefSchema = z.object({ taskId: Id }).strict()
export type TaskRef = z.infer<typeof TaskRefSchema>

export const AgentRefSchema = z.object({ agentId: Id }).strict()
export type AgentRef = z.infer<typeof AgentRefSchema>

export const AlertRefSchema = z.object({ alertId: Id }).strict()
export type AlertRef = z.infer<typeof AlertRefSchema>

const TaskBulkFilterSchema = z
  .object({
    status: z
      .union([TaskStatusSchema, z.array(TaskStatusSchema).min(1).max(7)], {
        error: `must be a task status (${TaskStatusSchema.options.join(', ')}) or a list of 1 to 7 of them`,
      })
      .optional(),
    kind: z.string().min(1).max(TASK_LIMITS.kindLength).optional(),
    agent: Id.optional(),
    text: z.string().trim().min(1).max(TASK_BULK_LIMITS.textLength).optional(),
  })
  .strict()

/** `task:bulk`, `POST /api/tasks/bulk`: shapes and bounds in `task-bulk.ts`. */
export const TaskBulkSchema = z
  .object({
    action: z.enum(TASK_BULK_ACTIONS),
    filter: TaskBulkFilterSchema.optional(),
    ids: z.array(Id).min(1).max(TASK_BULK_LIMITS.ids).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .superRefine((request, ctx) => {
    if ((request.filter === undefined) === (request.ids === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['filter'], message: 'give exactly one of filter and ids' })
    }
  })
export type TaskBulk = z.output<typeof TaskBulkSchema>

export const SubscribeSchema = z
  .object({
    channels: z.array(z.enum(CHANNELS)).max(CHANNELS.length),
    agentIds: z.array(Id).max(1000).optional(),
  })
  .strict()
export type SubscribeRequest = z.infer<typeof SubscribeSchema>

export const SyncSchema = z.object({ sinceSeq: z.number().int().min(0) }).strict()
export type SyncRequest = z.infer<typeof SyncSchema>

/** Formats a zod error as one line a person can act on: `field.path: reason; …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.')
      return path ? `${path}: ${issue.message}` : issue.message
    })
    .join('; ')
}
