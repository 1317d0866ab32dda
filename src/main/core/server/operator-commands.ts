/**
 * Operator commands, one handler each, typed from the protocol's
 * `DashboardCommands`: validate, check the role, run against the
 * coordinator, answer a `Result`. The `/dashboard` namespace mounts this
 * table and the HTTP routes call it (`runCommand`). A refusal (bad input,
 * the wrong role, a coordinator's `CoordinatorError`) is an answer and
 * changes nothing; anything else thrown or rejected is a bug, left to the
 * caller's guard, which logs it and answers `internal`. Every command, done
 * or refused, leaves one audit record (audited.ts), with the target its
 * entry names: a command added here is audited by that one line.
 */
import type { z } from 'zod'
import {
  AgentRefSchema,
  AlertRefSchema,
  describeIssues,
  KindUpdateSchema,
  TaskBulkSchema,
  TaskRefSchema,
  TaskSubmitSchema,
  WorkflowRefSchema,
  WorkflowSubmitSchema,
} from '../../../shared/commands'
import type { WorkflowSubmitted } from '../../../shared/workflows'
import type { KindInfo } from '../../../shared/kinds'
import type { Schedule } from '../../../shared/schedules'
import type { Role, Task } from '../../../shared/domain'
import type { CommandData, CommandName, DashboardCommands } from '../../../shared/protocol'
import { fail, ok, type Result } from '../../../shared/result'
import { CoordinatorError, type Coordinator } from '../coordinator/coordinator'
import type { AlertBook } from '../alerts/engine'
import { fieldOf, recordAction, type Audited } from './audited'
import { bulkSummary, bulkTarget, runBulk } from './bulk-tasks'
import type { Answer } from './guard'
import type { HandlerTable } from './handler-table'
import { submitDurably, type SubmitHistory } from './durable-submit'
import type { KindControl } from '../pipeline/kind-control'
import type { ScheduleBook } from '../schedules/schedule-book'
import { ScheduleCreateSchema, ScheduleRefSchema } from '../schedules/schedule-input'

export interface CommandContext extends Audited {
  coordinator: Coordinator
  role: Role
  /** Whether the request came from the loopback interface. */
  loopback: boolean
  allowRemoteShell: boolean
  /** For `alert:ack`; absent: that command answers `unavailable`. */
  alerts?: AlertBook
  /** `task:submit` answers once the new task is committed to it (durable-submit.ts). */
  history: SubmitHistory
  /** For `kind:update`; absent: that command answers `unavailable`. */
  kinds?: KindControl
  /** For the `schedule:*` commands; absent: they answer `unavailable`. */
  schedules?: ScheduleBook
}

export type CommandTable = HandlerTable<DashboardCommands, CommandContext>

/** A refusal thrown from inside a command's work, answered as it is. */
class CommandRefused extends Error {
  constructor(readonly result: Result<never>) {
    super('refused')
  }
}

function valid<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) throw new CommandRefused(fail('bad_request', describeIssues(parsed.error)))
  return parsed.data
}

function refusal(error: unknown): Result<never> {
  if (error instanceof CommandRefused) return error.result
  if (error instanceof CoordinatorError) return fail(error.code, error.message)
  throw error
}

/**
 * What a command's audit record names as its target: from the answer's data
 * when it succeeded, else from the input when it is valid (what a client sent
 * that is not even a valid id is not echoed into the log).
 */
type Target<T> = (input: unknown, data: T | null) => string | null
const field =
  <S extends z.ZodType>(schema: S, key: string): Target<unknown> =>
  (input) =>
    schema.safeParse(input).success ? fieldOf(input, key) : null

/**
 * An operator-only command whose work returns its data (now, or once a
 * promise settles) and throws its refusals; a synchronous one answers
 * synchronously. Each answer, and each failure, is recorded; `note` says
 * how one that succeeded ended, when its target alone does not.
 */
const operator =
  <T>(
    work: (input: unknown, context: CommandContext) => T | Promise<T>,
    target: Target<T>,
    note: (data: T) => string | null = () => null,
  ) =>
  (input: unknown, context: CommandContext, name: CommandName): Answer<T> => {
    const answered = (result: Result<T>): Result<T> => {
      recordAction(
        context,
        name,
        target(input, result.ok ? result.data : null),
        result,
        result.ok ? note(result.data) : null,
      )
      return result
    }
    const failed = (error: unknown): never => {
      recordAction(context, name, target(input, null), null)
      throw error
    }
    if (context.role !== 'operator') {
      return answered(fail('forbidden', `${name} needs an operator token; this connection is read-only`))
    }
    let data: T | Promise<T>
    try {
      data = work(input, context)
    } catch (error) {
      try {
        return answered(refusal(error))
      } catch (bug) {
        return failed(bug)
      }
    }
    return data instanceof Promise ? data.then(ok, refusal).then(answered, failed) : answered(ok(data))
  }

/** Validates and queues a new task (not yet durable). */
function submitNow(input: unknown, context: CommandContext): Task {
  const request = valid(TaskSubmitSchema, input)
  checkShell([request.kind], context)
  return context.coordinator.submit(request)
}

/**
 * A submission's answer waits until the new task is committed to the history
 * (durable-submit.ts): refused, with nothing accepted, while the history is
 * down or when the commit fails.
 */
async function durably<T>(context: CommandContext, submit: () => T, taskIds: (data: T) => string[]): Promise<T> {
  const result = await submitDurably(
    context.history,
    context.coordinator,
    () => {
      try {
        return ok(submit())
      } catch (error) {
        return refusal(error)
      }
    },
    taskIds,
  )
  if (!result.ok) throw new CommandRefused(result)
  return result.data
}

/** Shell tasks run commands on the server: from this machine only, unless the server allows remote ones. */
function checkShell(kinds: readonly string[], { loopback, allowRemoteShell }: CommandContext): void {
  if (!kinds.includes('shell') || loopback || allowRemoteShell) return
  throw new CommandRefused(
    fail(
      'forbidden',
      'shell tasks run commands on the server, so they are accepted only from the server machine itself (start it with --allow-remote-shell to allow remote operators)',
    ),
  )
}

/** Validates a workflow whole, then queues all of it (not yet durable). */
function submitWorkflowNow(input: unknown, context: CommandContext): WorkflowSubmitted {
  const request = valid(WorkflowSubmitSchema, input)
  checkShell(
    request.tasks.map((task) => task.kind),
    context,
  )
  return context.coordinator.submitWorkflow(request)
}

function scheduleBook(context: CommandContext): ScheduleBook {
  if (!context.schedules) throw new CommandRefused(fail('unavailable', 'this server keeps no schedules'))
  return context.schedules
}

/** A schedule's run submits as its creator did: a shell task only from where `task:submit` would take it. */
function createSchedule(input: unknown, context: CommandContext): Promise<Schedule> {
  const request = valid(ScheduleCreateSchema, input)
  const book = scheduleBook(context)
  const workflow = request.workflow as { tasks?: { kind?: unknown }[] } | undefined
  const task = request.task as { kind?: unknown } | undefined
  checkShell(
    [...(workflow?.tasks ?? []), ...(task ? [task] : [])].map((t) => String(t.kind)),
    context,
  )
  return book.create(request, context.actor?.name ?? 'unknown')
}

/** The schedule's name in the audit trail when it acted, else the id sent when it is one. */
const scheduleTarget: Target<Schedule> = (input, schedule) =>
  schedule?.name ?? field(ScheduleRefSchema, 'scheduleId')(input, null)

const scheduleAction = (act: (book: ScheduleBook, id: string) => Promise<Schedule>) =>
  operator((input, context) => act(scheduleBook(context), valid(ScheduleRefSchema, input).scheduleId), scheduleTarget)

export const COMMANDS: CommandTable = {
  'task:submit': operator(
    (input, context) =>
      durably(
        context,
        () => submitNow(input, context),
        (task) => [task.id],
      ),
    // The new task's id; a refused one has none (its message says why).
    (_input, task) => task?.id ?? null,
  ),
  'task:cancel': operator(
    (input, { coordinator }) => coordinator.cancel(valid(TaskRefSchema, input).taskId),
    field(TaskRefSchema, 'taskId'),
  ),
  'task:retry': operator(
    (input, { coordinator }) => coordinator.retry(valid(TaskRefSchema, input).taskId),
    field(TaskRefSchema, 'taskId'),
  ),
  // One record for the whole action, its counts in the message (a dry run's too, marked so).
  'task:bulk': operator(
    (input, { coordinator, history }) => runBulk(coordinator, history, valid(TaskBulkSchema, input)),
    (input) => {
      const parsed = TaskBulkSchema.safeParse(input)
      return parsed.success ? bulkTarget(parsed.data) : null
    },
    bulkSummary,
  ),
  'agent:pause': operator(
    (input, { coordinator }) => coordinator.pauseAgent(valid(AgentRefSchema, input).agentId),
    field(AgentRefSchema, 'agentId'),
  ),
  'agent:resume': operator(
    (input, { coordinator }) => coordinator.resumeAgent(valid(AgentRefSchema, input).agentId),
    field(AgentRefSchema, 'agentId'),
  ),
  'alert:ack': operator(
    (input, { alerts }) => {
      const { alertId } = valid(AlertRefSchema, input)
      if (!alerts) throw new CommandRefused(fail('unavailable', 'this server runs no alert rules'))
      const alert = alerts.acknowledge(alertId)
      if (!alert) throw new CommandRefused(fail('not_found', `no alert ${alertId}`))
      return alert
    },
    field(AlertRefSchema, 'alertId'),
  ),
  'workflow:submit': operator(
    (input, context) =>
      durably(
        context,
        () => submitWorkflowNow(input, context),
        (workflow) => workflow.tasks.map((task) => task.id),
      ),
    // The new workflow's id; a refused one has none.
    (_input, workflow) => workflow?.id ?? null,
  ),
  'workflow:cancel': operator(
    (input, { coordinator }) => coordinator.cancelWorkflow(valid(WorkflowRefSchema, input).workflowId),
    field(WorkflowRefSchema, 'workflowId'),
  ),
  'workflow:retry-failed': operator(
    (input, { coordinator }) => coordinator.retryWorkflow(valid(WorkflowRefSchema, input).workflowId),
    field(WorkflowRefSchema, 'workflowId'),
  ),
  // Stored, then applied (kind-control.ts); the record names the kind.
  'kind:update': operator(
    (input, { kinds }) => {
      const request = valid(KindUpdateSchema, input)
      if (!kinds) throw new CommandRefused(fail('unavailable', 'this server keeps no per-kind limits'))
      return kinds.update(request)
    },
    field(KindUpdateSchema, 'kind'),
    kindNote,
  ),
  'schedule:create': operator(
    createSchedule,
    (input, schedule) => schedule?.name ?? fieldOf(input, 'name')?.slice(0, 200) ?? null,
  ),
  'schedule:pause': scheduleAction((book, id) => book.pause(id)),
  'schedule:resume': scheduleAction((book, id) => book.resume(id)),
  'schedule:run': scheduleAction((book, id) => book.runNow(id)),
  'schedule:delete': scheduleAction((book, id) => book.delete(id)),
}

/** How a kind's change reads in the audit trail: its limits as they are now. */
function kindNote(info: KindInfo): string {
  const limit = (value: number | null) => (value === null ? 'none' : String(value))
  return `paused ${info.paused}, maxRunning ${limit(info.maxRunning)}, maxPerMinute ${limit(info.maxPerMinute)}`
}

/** Runs one command outside Socket.IO (the HTTP routes, tests); rejects only on a bug. */
export function runCommand<N extends CommandName>(
  name: N,
  input: unknown,
  context: CommandContext,
): Answer<CommandData<N>> {
  const handler: CommandTable[N] = COMMANDS[name]
  return handler(input, context, name)
}
