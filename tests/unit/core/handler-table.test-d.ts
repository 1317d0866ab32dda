/**
 * The handler tables are typed from the protocol's event maps: what must not
 * compile is marked `@ts-expect-error`, so the day it compiles this file
 * fails its type check.
 */
import { describe, expectTypeOf, it } from 'vitest'
import type { Logger } from '../../../src/main/core/logger'
import { guarded } from '../../../src/main/core/server/guard'
import type { HandlerTable } from '../../../src/main/core/server/handler-table'
import {
  COMMANDS,
  runCommand,
  type CommandContext,
  type CommandTable,
} from '../../../src/main/core/server/operator-commands'
import type { DashboardClient } from '../../../src/shared/client/dashboard-client'
import type { Agent, Task } from '../../../src/shared/domain'
import type { AgentsClientToServer, DashboardClientToServer, DashboardCommands } from '../../../src/shared/protocol'
import { fail, ok, type Ack, type Result } from '../../../src/shared/result'

declare const task: Task
declare const agent: Agent
declare const logger: Logger

describe('the /dashboard command table', () => {
  it('has a handler for every command of the protocol', () => {
    const { 'alert:ack': _dropped, ...rest } = COMMANDS
    // @ts-expect-error 'alert:ack' has no handler
    const missing: CommandTable = rest
    expectTypeOf(missing).toEqualTypeOf<CommandTable>()
  })

  it('does not compile when the protocol gains a command the table lacks', () => {
    interface Grown extends DashboardCommands {
      'task:pin': (request: { taskId: string }, ack: Ack<Task>) => void
    }
    // @ts-expect-error 'task:pin' has no handler
    const grown: HandlerTable<Grown, CommandContext> = COMMANDS
    expectTypeOf(grown).toEqualTypeOf<HandlerTable<Grown, CommandContext>>()
  })

  it('refuses a handler whose answer is not the ack the protocol gives the command', () => {
    const table: CommandTable = {
      ...COMMANDS,
      // @ts-expect-error task:cancel answers a Task, not an Agent
      'task:cancel': () => ok(agent),
      // @ts-expect-error the same, from an async handler
      'task:retry': async () => ok(agent),
    }
    expectTypeOf(table).toEqualTypeOf<CommandTable>()
  })

  it('accepts async handlers and refusals of any command', () => {
    const table: CommandTable = {
      ...COMMANDS,
      'task:submit': async () => ok(task),
      'task:cancel': () => fail('not_found', 'no such task'),
    }
    expectTypeOf(table['task:submit']).returns.toEqualTypeOf<Result<Task> | Promise<Result<Task>>>()
  })

  it('runs a command with its own result type', () => {
    expectTypeOf(runCommand<'agent:pause'>).returns.toEqualTypeOf<Result<Agent> | Promise<Result<Agent>>>()
  })

  it('covers ping, sync and subscribe too', () => {
    // @ts-expect-error ping, sync and subscribe have no handlers
    const viewer: HandlerTable<DashboardClientToServer, CommandContext> = { ...COMMANDS }
    expectTypeOf(viewer).toEqualTypeOf<HandlerTable<DashboardClientToServer, CommandContext>>()
  })
})

describe('the /agents table', () => {
  type AgentTable = HandlerTable<AgentsClientToServer, null>
  const none = () => ok(null)
  const full: AgentTable = {
    'agent:register': () => ok({ agentId: 'a', sessionKey: 'k' }),
    'agent:heartbeat': () => ok({ serverTime: 0 }),
    'agent:metrics': none,
    'task:progress': none,
    'task:complete': none,
    'task:fail': none,
    log: none,
  }

  it('has a handler for every message', () => {
    const { log: _dropped, ...rest } = full
    // @ts-expect-error log has no handler
    const missing: AgentTable = rest
    expectTypeOf(missing).toEqualTypeOf<AgentTable>()
  })

  it('refuses an ack of the wrong shape', () => {
    const wrong: AgentTable = {
      ...full,
      // @ts-expect-error agent:heartbeat answers { serverTime }
      'agent:heartbeat': () => ok(null),
      // @ts-expect-error agent:register answers the agent id and a session key
      'agent:register': () => ok({ agentId: 'a' }),
    }
    expectTypeOf(wrong).toEqualTypeOf<AgentTable>()
  })
})

describe('guarded', () => {
  it('keeps the ack type of its handler', () => {
    const acks: Ack<Task> = () => {}
    guarded(logger, 'task:cancel', () => ok(task), acks)
    // @ts-expect-error the handler answers an Agent where a Task is acknowledged
    guarded(logger, 'task:cancel', () => ok(agent), acks)
  })
})

describe('the client', () => {
  it('derives command names and results from the same map', () => {
    const command = {} as DashboardClient['command']
    expectTypeOf(command('task:submit', { name: 'n', kind: 'k' })).toEqualTypeOf<Promise<Result<Task>>>()
    expectTypeOf(command('agent:pause', { agentId: 'a' })).toEqualTypeOf<Promise<Result<Agent>>>()
    // @ts-expect-error ping is the client's plumbing, not a command
    void command('ping', undefined)
    // @ts-expect-error task:cancel takes a task reference
    void command('task:cancel', { agentId: 'a' })
  })
})
