/**
 * Requests clients send: schemas validated by the server on every message,
 * types derived from them for the clients.
 */
import { z } from 'zod'
import { CapabilitySchema } from './domain'
import { CHANNELS } from './events'

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
  command: CString(8192, 1),
  cwd: CString(4096).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), CString(8192)).optional(),
})
export type ShellPayload = z.infer<typeof ShellPayloadSchema>

export const TaskSubmitSchema = z
  .object({
    name: z.string().min(1).max(200),
    kind: z.string().min(1).max(64),
    payload: JsonRecord.default({}),
    priority: z.number().int().min(-1000).max(1000).default(0),
    capabilities: z.array(CapabilitySchema).max(32).default([]),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600 * 1000)
      .nullable()
      .default(null),
    maxRetries: z.number().int().min(0).max(100).default(0),
  })
  .strict()
  .superRefine((task, ctx) => {
    if (task.kind !== 'shell') return
    const parsed = ShellPayloadSchema.safeParse(task.payload)
    for (const issue of parsed.error?.issues ?? []) {
      ctx.addIssue({ code: 'custom', path: ['payload', ...issue.path], message: issue.message })
    }
  })
export type TaskSubmitRequest = z.input<typeof TaskSubmitSchema>
export type TaskSubmit = z.output<typeof TaskSubmitSchema>

export const TaskRefSchema = z.object({ taskId: Id }).strict()
export type TaskRef = z.infer<typeof TaskRefSchema>

export const AgentRefSchema = z.object({ agentId: Id }).strict()
export type AgentRef = z.infer<typeof AgentRefSchema>

export const AlertRefSchema = z.object({ alertId: Id }).strict()
export type AlertRef = z.infer<typeof AlertRefSchema>

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
