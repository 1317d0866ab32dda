/**
 * Operator commands sent over Socket.IO to a cluster follower run on the
 * leader (docs/cluster.md): the follower's handler sends the command to the
 * leader's `POST /api/cluster/commands/:name` with the caller's own token and
 * address, and acknowledges with the leader's answer. The leader runs the
 * one command table (operator-commands.ts) as for any HTTP call: it checks
 * the token and the role, validates, audits. So a viewer's buttons work on
 * whichever node the load balancer gave it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CommandName } from '../../../shared/protocol'
import { ERROR_CODES, fail, ok, type ErrorCode, type Result } from '../../../shared/result'
import type { Logger } from '../logger'
import { FORWARDED_BY } from './leader-proxy'
import { COMMANDS, runCommand, type CommandContext, type CommandTable } from './operator-commands'
import { sendError, sendResult } from './replies'

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** How long the leader may take to answer a forwarded command (a durable submit included). */
const COMMAND_TIMEOUT_MS = 20_000

/** The leader's side: any command of the table, by name, for a token the leader checks itself. */
export function registerCommandRoute(
  app: FastifyInstance,
  deps: { readers: { onRequest: Hook }; context(request: FastifyRequest): CommandContext },
): void {
  app.post('/api/cluster/commands/:name', deps.readers, async (request, reply) => {
    const { name } = request.params as { name: string }
    if (!Object.hasOwn(COMMANDS, name)) return sendError(reply, 'not_found', `no command ${name.slice(0, 60)}`)
    const input = (request.body as { input?: unknown } | undefined)?.input ?? null
    return sendResult(reply, await runCommand(name as CommandName, input, deps.context(request)))
  })
}

export interface CommandForwarding {
  nodeId: string
  logger: Logger
  /** The leader's URL while this node follows; null while it leads; 'unknown' during an election. */
  forwardTo(): string | null | 'unknown'
}

/** What a forwarded command needs of its connection beyond its context: the token it presented. */
export interface ForwardingContext extends CommandContext {
  token(): unknown
}

/** The command table, each command sent on to the leader while this node follows. */
export function forwardingCommands<C extends ForwardingContext>(forwarding: CommandForwarding): CommandTable {
  const table = {} as Record<string, unknown>
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const local = COMMANDS[name] as (input: unknown, context: CommandContext, name: CommandName) => unknown
    table[name] = (input: unknown, context: C) => {
      const leader = forwarding.forwardTo()
      if (leader === null) return local(input, context, name)
      if (leader === 'unknown') return fail('unavailable', 'no cluster leader is known right now; retry in a moment')
      return forward(leader, name, input, context, forwarding)
    }
  }
  return table as CommandTable
}

async function forward(
  leader: string,
  name: CommandName,
  input: unknown,
  context: ForwardingContext,
  forwarding: CommandForwarding,
): Promise<Result<unknown>> {
  const token = context.token()
  try {
    const answer = await fetch(new URL(`/api/cluster/commands/${name}`, leader), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(typeof token === 'string' ? { authorization: `Bearer ${token}` } : {}),
        ...(context.actor ? { 'x-forwarded-for': context.actor.address } : {}),
        [FORWARDED_BY]: forwarding.nodeId,
      },
      body: JSON.stringify({ input }),
      signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
    })
    const body = (await answer.json()) as unknown
    if (answer.ok) return ok(body)
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error
    const code = (ERROR_CODES as readonly unknown[]).includes(error?.code) ? (error!.code as ErrorCode) : 'internal'
    return fail(code, typeof error?.message === 'string' ? error.message : `the leader answered ${answer.status}`)
  } catch (error) {
    forwarding.logger.warn({ err: error, leader, command: name }, 'cluster: a command could not reach the leader')
    return fail('unavailable', 'the cluster leader did not answer; retry in a moment')
  }
}
