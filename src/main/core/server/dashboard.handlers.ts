/**
 * The `/dashboard` namespace: viewers and operators. On connect: `welcome`,
 * then `snapshot`, then `events` batches. Every incoming message is validated
 * and answered through its acknowledgement; none can throw.
 */
import type { Namespace, Socket } from 'socket.io'
import { SubscribeSchema, SyncSchema, describeIssues } from '../../../shared/commands'
import type { Role } from '../../../shared/domain'
import type { DomainEvent } from '../../../shared/events'
import type { DashboardClientToServer, DashboardServerToClient, SyncResponse } from '../../../shared/protocol'
import { fail, ok } from '../../../shared/result'
import type { Logger } from '../logger'
import type { Tokens } from '../auth/tokens'
import type { Batcher } from '../pipeline/batcher'
import type { EventLog } from '../pipeline/event-log'
import type { Fanout } from '../pipeline/fanout'
import { covers, matches, subscription } from '../pipeline/subscription'
import { VERSION } from '../version'
import { admit, isLocalClient } from './auth'
import type { RoutingPolicy } from '../../../shared/routing'
import { guarded, guardSocket, type GuardCounters } from './guard'
import type { Limits } from './limits'
import { COMMAND_NAMES, runCommand } from './operator-commands'
import { buildSnapshot, type SwarmState } from './snapshot'

export interface SocketData {
  role: Role
}

export type DashboardNamespace = Namespace<
  DashboardClientToServer,
  DashboardServerToClient,
  Record<string, never>,
  SocketData
>
export type DashboardSocket = Socket<
  DashboardClientToServer,
  DashboardServerToClient,
  Record<string, never>,
  SocketData
>

export interface DashboardDeps {
  state: SwarmState
  batcher: Batcher
  fanout: Fanout
  tokens: Tokens
  logger: Logger
  allowRemoteShell: boolean
  /** Identifies this server process to resuming viewers. */
  instance: string
  limits: Limits
  counters?: GuardCounters
  /** How late the event loop ran recently (loop-lag.ts), credited by the rate limit. */
  lagMs?: () => number
  /** Which agents may run which tasks beyond their kinds and capabilities; told to viewers in `welcome`. */
  routing: RoutingPolicy
}

/** What a viewer may send; anything else is ignored and counted. */
const EVENTS: ReadonlySet<string> = new Set(['ping', 'sync', 'subscribe', ...COMMAND_NAMES])

/**
 * The events a reconnecting viewer missed, when it says where it stopped
 * (`auth.sinceSeq`) and they are all still in the buffer; null means "send a
 * snapshot".
 */
function resumeFrom(auth: unknown, instance: string, log: EventLog): DomainEvent[] | null {
  const { sinceSeq, instance: from } = (auth ?? {}) as { sinceSeq?: unknown; instance?: unknown }
  // Seqs of another server process (a restart) mean nothing here.
  if (from !== instance) return null
  if (typeof sinceSeq !== 'number' || !Number.isInteger(sinceSeq) || sinceSeq < 0 || sinceSeq > log.seq) return null
  return log.since(sinceSeq)
}

export function registerDashboard(namespace: DashboardNamespace, deps: DashboardDeps): void {
  const { state, batcher, fanout, tokens, logger } = deps

  namespace.use((socket, next) => {
    const admission = admit(tokens, (socket.handshake.auth as { token?: unknown }).token, ['operator', 'viewer'])
    if (!admission.ok) {
      logger.warn(
        { address: socket.handshake.address, reason: admission.reason, namespace: '/dashboard' },
        'connection refused',
      )
      next(new Error(admission.code))
      return
    }
    socket.data.role = admission.role
    next()
  })

  namespace.on('connection', (socket: DashboardSocket) => {
    const role = socket.data.role
    guardSocket(socket, {
      namespace: '/dashboard',
      events: EVENTS,
      limits: deps.limits,
      logger,
      counters: deps.counters,
      lagMs: deps.lagMs,
    })
    logger.info({ id: socket.id, role, address: socket.handshake.address }, 'viewer connected')
    socket.on('disconnect', (reason) => {
      fanout.remove(socket)
      logger.info({ id: socket.id, reason }, 'viewer disconnected')
    })

    // Everything up to now goes out to the others first, so log.seq is the line:
    // this socket gets the state up to it (snapshot, or the missed events when it
    // resumes from a seq still in the buffer) and then only later events.
    batcher.flush()
    const missed = resumeFrom(socket.handshake.auth, deps.instance, state.log)
    socket.emit('welcome', {
      role,
      version: VERSION,
      serverTime: Date.now(),
      resumed: missed !== null,
      instance: deps.instance,
      routing: deps.routing,
    })
    if (missed === null) socket.emit('snapshot', buildSnapshot(state))
    else if (missed.length > 0) socket.emit('events', missed)
    fanout.add(socket)
    let current = subscription(['agents', 'tasks', 'metrics', 'logs', 'alerts'])

    socket.on(
      'ping',
      guarded(logger, 'ping', (_payload, ack) => ack(ok({ serverTime: Date.now() }))),
    )

    socket.on(
      'sync',
      guarded(logger, 'sync', (request, ack) => {
        const parsed = SyncSchema.safeParse(request)
        if (!parsed.success) return ack(fail('bad_request', describeIssues(parsed.error)))
        batcher.flush()
        const events = state.log.since(parsed.data.sinceSeq)
        const response: SyncResponse = events
          ? { kind: 'events', events: events.filter((event) => matches(current, event)) }
          : { kind: 'snapshot', snapshot: buildSnapshot(state) }
        ack(ok(response))
      }),
    )

    socket.on(
      'subscribe',
      guarded(logger, 'subscribe', (request, ack) => {
        const parsed = SubscribeSchema.safeParse(request)
        if (!parsed.success) return ack(fail('bad_request', describeIssues(parsed.error)))
        // Events already batched leave under the old subscription, so nothing is lost or doubled.
        batcher.flush()
        const next = subscription(parsed.data.channels, parsed.data.agentIds)
        const widened = !covers(current, next)
        current = next
        fanout.subscribe(socket, current)
        ack(ok(parsed.data))
        // What the viewer stopped receiving it may hold stale: widening brings a fresh snapshot.
        if (widened) socket.emit('snapshot', buildSnapshot(state))
      }),
    )

    const context = {
      role,
      loopback: isLocalClient(socket.handshake.address, socket.handshake.headers),
      allowRemoteShell: deps.allowRemoteShell,
      alerts: state.alerts,
    }
    for (const name of COMMAND_NAMES) {
      socket.on(
        name,
        guarded(logger, name, (request, ack) => {
          const result = runCommand(state.coordinator, name, request, context)
          if (result.ok) logger.info({ command: name, id: socket.id }, 'operator command')
          ack(result)
        }),
      )
    }
  })
}
