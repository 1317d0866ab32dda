/**
 * Operator commands, shared by the Socket.IO handlers and the HTTP routes:
 * validate, check the role, run against the coordinator, answer a `Result`.
 * Nothing here throws; bad input changes nothing.
 */
import type { z } from 'zod'
import {
  AgentRefSchema,
  AlertRefSchema,
  describeIssues,
  TaskRefSchema,
  TaskSubmitSchema,
} from '../../../shared/commands'
import type { Agent, Alert, Role, Task } from '../../../shared/domain'
import { fail, ok, type Result } from '../../../shared/result'
import { CoordinatorError, type Coordinator } from '../coordinator/coordinator'
import type { AlertBook } from '../alerts/engine'
import { submitDurably, type SubmitHistory } from './durable-submit'

export interface CommandContext {
  role: Role
  /** Whether the request came from the loopback interface. */
  loopback: boolean
  allowRemoteShell: boolean
  /** For `alert:ack`; absent: that command answers `unavailable`. */
  alerts?: AlertBook
  /** `task:submit` answers once the new task is committed to it (durable-submit.ts). */
  history: SubmitHistory
}

interface CommandResults {
  'task:submit': Task
  'task:cancel': Task
  'task:retry': Task
  'agent:pause': Agent
  'agent:resume': Agent
  'alert:ack': Alert
}
export type CommandName = keyof CommandResults

export const COMMAND_NAMES: readonly CommandName[] = [
  'task:submit',
  'task:cancel',
  'task:retry',
  'agent:pause',
  'agent:resume',
  'alert:ack',
]

function parse<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { ok: true; data: z.output<S> } | { ok: false; result: Result<never> } {
  const parsed = schema.safeParse(input)
  if (parsed.success) return { ok: true, data: parsed.data }
  return { ok: false, result: fail('bad_request', describeIssues(parsed.error)) }
}

/** Answers at once, except `task:submit`, whose answer waits for the task to be stored (a promise). */
export function runCommand<N extends CommandName>(
  coordinator: Coordinator,
  name: N,
  input: unknown,
  context: CommandContext,
): Result<CommandResults[N]> | Promise<Result<CommandResults[N]>> {
  if (context.role !== 'operator')
    return fail('forbidden', `${name} needs an operator token; this connection is read-only`)
  const run = (): Result<CommandResults[N]> => {
    try {
      return ok(execute(coordinator, name, input, context)) as Result<CommandResults[N]>
    } catch (error) {
      if (error instanceof CommandRefused) return error.result
      if (error instanceof CoordinatorError) return fail(error.code, error.message)
      return fail('internal', 'the command failed inside the server; see the server log')
    }
  }
  if (name !== 'task:submit') return run()
  return submitDurably(context.history, coordinator, run as () => Result<Task>) as Promise<Result<CommandResults[N]>>
}

class CommandRefused extends Error {
  constructor(readonly result: Result<never>) {
    super('refused')
  }
}

function valid<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = parse(schema, input)
  if (!parsed.ok) throw new CommandRefused(parsed.result)
  return parsed.data
}

function execute(
  coordinator: Coordinator,
  name: CommandName,
  input: unknown,
  context: CommandContext,
): Task | Agent | Alert {
  switch (name) {
    case 'task:submit': {
      const request = valid(TaskSubmitSchema, input)
      if (request.kind === 'shell' && !context.loopback && !context.allowRemoteShell) {
        throw new CommandRefused(
          fail(
            'forbidden',
            'shell tasks run commands on the server, so they are accepted only from the server machine itself (start it with --allow-remote-shell to allow remote operators)',
          ),
        )
      }
      return coordinator.submit(request)
    }
    case 'task:cancel':
      return coordinator.cancel(valid(TaskRefSchema, input).taskId)
    case 'task:retry':
      return coordinator.retry(valid(TaskRefSchema, input).taskId)
    case 'agent:pause':
      return coordinator.pauseAgent(valid(AgentRefSchema, input).agentId)
    case 'agent:resume':
      return coordinator.resumeAgent(valid(AgentRefSchema, input).agentId)
    case 'alert:ack': {
      const { alertId } = valid(AlertRefSchema, input)
      if (!context.alerts) throw new CommandRefused(fail('unavailable', 'this server runs no alert rules'))
      const alert = context.alerts.acknowledge(alertId)
      if (!alert) throw new CommandRefused(fail('not_found', `no alert ${alertId}`))
      return alert
    }
  }
}
