/**
 * What `POST /api/schedules` and the `schedule:*` commands accept, checked
 * whole before anything is stored: the cron and timezone through croner
 * (cron.ts), the task or workflow through the submit schemas, so a schedule
 * never stores a run that would be refused when it fires.
 */
import { z } from 'zod'
import { TaskSubmitSchema, WorkflowSubmitSchema } from '../../../shared/commands'
import { SCHEDULE_LIMITS, SCHEDULE_OVERLAPS } from '../../../shared/schedules'
import { isCronProblem, parseCron } from './cron'

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

const Cron = z.string().min(1).max(SCHEDULE_LIMITS.cronLength)
const Timezone = z.string().min(1).max(SCHEDULE_LIMITS.timezoneLength)

/** Adds the cron's or the timezone's problem under its own field. */
function checkCron(input: { cron: string; timezone?: string }, context: z.RefinementCtx): void {
  const parsed = parseCron(input.cron, input.timezone)
  if (isCronProblem(parsed)) context.addIssue({ code: 'custom', path: [parsed.field], message: parsed.message })
}

export const SchedulePreviewSchema = z
  .object({ cron: Cron, timezone: Timezone.optional() })
  .strict()
  .superRefine(checkCron)

export const ScheduleCreateSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(SCHEDULE_LIMITS.nameLength)
      .refine((name) => !CONTROL.test(name), 'must not contain control characters')
      .refine((name) => name.trim() === name, 'must not start or end with spaces'),
    cron: Cron,
    timezone: Timezone.optional(),
    overlap: z.enum(SCHEDULE_OVERLAPS).default('skip'),
    // Kept as sent (the submit schemas' input), parsed again when each run is submitted.
    task: z.unknown().optional(),
    workflow: z.unknown().optional(),
  })
  .strict()
  .superRefine((input, context) => {
    checkCron(input, context)
    if ((input.task === undefined) === (input.workflow === undefined)) {
      context.addIssue({ code: 'custom', path: ['task'], message: 'give a task or a workflow (one of them)' })
      return
    }
    const [key, schema] =
      input.task !== undefined ? (['task', TaskSubmitSchema] as const) : (['workflow', WorkflowSubmitSchema] as const)
    const parsed = schema.safeParse(input[key])
    if (key === 'task' && typeof input.task === 'object' && input.task !== null && 'dependsOn' in input.task) {
      context.addIssue({
        code: 'custom',
        path: ['task', 'dependsOn'],
        message: 'a scheduled task cannot depend on fixed tasks (use a workflow)',
      })
    }
    for (const issue of parsed.error?.issues ?? []) {
      context.addIssue({ code: 'custom', path: [key, ...issue.path], message: issue.message })
    }
  })
export type ScheduleCreate = z.output<typeof ScheduleCreateSchema>

export const ScheduleRefSchema = z.object({ scheduleId: z.string().min(1).max(128) }).strict()
