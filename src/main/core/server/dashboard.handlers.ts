/**
 * The `/dashboard` namespace: viewers and operators. On connect: `welcome`,
 * then `snapshot` (or the missed events of a resume), then `events` batches.
 * Every incoming message is validated and answered through its
 * acknowledgement; none can throw. Connections are capped per token (by its
 * name) and in total; what a viewer may ask for that costs the server (a
 * replay, a snapshot) is bounded in bytes and rationed (`Fanout.ration`).
 * A refused token and every operator command are audited; a connection
 * whose token is revoked while it is open is closed.
 */
import { SubscribeSchema, SyncSchema, describeIssues } from '../../../shared/commands'
import { ROLES } from '../../../shared/domain'
import type { DomainEvent } from '../../../shared/events'
import type { DashboardClientToServer, Snapshot, SyncResponse } from '../../../shared/protocol'
import { fail, ok } from '../../../shared/result'
import type { Logger } from '../logger'
import type { AccessTokens } from '../auth/access'
import type { AuditSink } from '../storage/audit-trail'
import type { Batcher } from '../pipeline/batcher'
import type { EventLog } from '../pipeline/event-log'
import type { Fanout } from '../pipeline/fanout'
import { EVERYTHING, covers, matches, subscription, type Subscription } from '../pipeline/subscription'
import { VERSION } from '../version'
import { recordRefusal } from './audited'
import { admit, clientAddress, isLocalClient } from './auth'
import type { RoutingPolicy } from '../../../shared/routing'
import { guardSocket, type GuardCounters } from './guard'
import { eventsOf, mounter, type HandlerTable } from './handler-table'
import type { Limits } from './limits'
import { COMMANDS } from './operator-commands'
import { forwardingCommands, type CommandForwarding, type ForwardingContext } from './forwarded-commands'
import type { KindControl } from '../pipeline/kind-control'
import type { ScheduleBook } from '../schedules/schedule-book'
import type { SwarmState } from '../pipeline/snapshot'
import type { ViewerConnection } from '../pipeline/viewers'
import { chooseEncoding, type ViewerEncoder } from './viewer-encoding'
import { viewerConnection, type DashboardNamespace, type DashboardSocket } from './viewer-transport'

/** How many viewers may be connected (`--max-viewers`, `--max-viewers-per-token`). */
export interface ViewerCaps {
  total: number
  perToken: number
}

export interface DashboardDeps {
  state: SwarmState
  /** The whole state viewers are sent: this process's, or a cluster follower's copy (pipeline.snapshot). */
  snapshot(): Snapshot
  batcher: Batcher
  fanout: Fanout
  tokens: AccessTokens
  logger: Logger
  /** Where refused tokens and operator commands are recorded. */
  audit: AuditSink
  allowRemoteShell: boolean
  /** For the `schedule:*` commands; absent, they answer `unavailable`. */
  schedules?: ScheduleBook
  /** What a resuming viewer's `auth.instance` must be for a replay: this process, or the cluster's epoch. */
  instance(): string
  limits: Limits
  caps: ViewerCaps
  counters?: GuardCounters
  /** Told of each connection a cap refused. */
  refused?: (cap: keyof ViewerCaps) => void
  /** How late the event loop ran recently (loop-lag.ts), credited by the rate limit. */
  lagMs?: () => number
  /** Which agents may run which tasks beyond their kinds and capabilities; told to viewers in `welcome`. */
  routing: RoutingPolicy
  /** Compresses what goes to `deflate-raw` viewers one by one (a replay of missed events). */
  encoder: ViewerEncoder
  /** The server negotiates permessage-deflate (`--ws-compression`). */
  wsCompression?: boolean
  /** Per-kind limits for `kind:update`; absent: it answers `unavailable`. */
  kinds?: KindControl
  /** A cluster node's: commands go to the leader while this node follows (forwarded-commands.ts). */
  forwarding?: CommandForwarding
}

/** A token as a message names it: `the viewer token` (a generated one), `the token "alice"` (a named one). */
function tokenLabel(name: string): string {
  return (ROLES as readonly string[]).includes(name) ? `the ${name} token` : `the token "${name}"`
}

/** One viewer's connection, as its handlers see it. */
interface Viewer extends ForwardingContext {
  socket: DashboardSocket
  /** The same socket as the fanout sees it. */
  connection: ViewerConnection
  /** What the viewer receives; `subscribe` changes it. */
  subscription: Subscription
}

/** What a viewer may send: its own plumbing and the operator commands (operator-commands.ts). */
function viewerHandlers(deps: DashboardDeps): HandlerTable<DashboardClientToServer, Viewer> {
  const { state, batcher, fanout, limits } = deps
  return {
    ping: () => ok({ serverTime: Date.now() }),

    sync: (request, { connection, subscription: current }) => {
      const parsed = SyncSchema.safeParse(request)
      if (!parsed.success) return fail('bad_request', describeIssues(parsed.error))
      const waiting = connection.queuedBytes()
      if (waiting > limits.viewerQueueBytes) {
        return fail('rate_limited', `sync: ${waiting} bytes are still on their way to you; sync once they arrive`)
      }
      const retryInMs = fanout.ration(connection)
      if (retryInMs > 0) {
        return fail(
          'rate_limited',
          `sync: a connection may ask for ${limits.resyncBurst} replays or snapshots at once, then one every ${limits.resyncEveryMs} ms; retry in ${retryInMs} ms`,
        )
      }
      batcher.flush()
      const events = state.log.since(parsed.data.sinceSeq, limits.replayBytes)
      const response: SyncResponse = events
        ? { kind: 'events', events: events.filter((event) => matches(current, event)) }
        : { kind: 'snapshot', snapshot: deps.snapshot() }
      return ok(response)
    },

    subscribe: (request, viewer) => {
      const parsed = SubscribeSchema.safeParse(request)
      if (!parsed.success) return fail('bad_request', describeIssues(parsed.error))
      // Events already batched leave under the old subscription, so nothing is lost or doubled.
      batcher.flush()
      const next = subscription(parsed.data.channels, parsed.data.agentIds)
      const widened = !covers(viewer.subscription, next)
      viewer.subscription = next
      // What the viewer stopped receiving it may hold stale: widening brings a fresh snapshot. Repeated
      // widening is rationed like `sync`: the viewer is held back (no events) until its snapshot can go.
      // The snapshot leaves later (fanout.ts), after this answer.
      fanout.subscribe(viewer.connection, next, widened)
      return ok(parsed.data)
    },

    ...(deps.forwarding ? forwardingCommands<Viewer>(deps.forwarding) : COMMANDS),
  }
}

/**
 * The events a reconnecting viewer missed, when it says where it stopped
 * (`auth.sinceSeq` and `auth.instance`) and they are all still in the buffer
 * within `maxBytes`; null means "send a snapshot".
 */
function resumeFrom(auth: unknown, instance: string, log: EventLog, maxBytes: number): DomainEvent[] | null {
  const { sinceSeq, instance: from } = (auth ?? {}) as { sinceSeq?: unknown; instance?: unknown }
  // Seqs of another server process (a restart) mean nothing here.
  if (from !== instance) return null
  if (typeof sinceSeq !== 'number' || !Number.isInteger(sinceSeq) || sinceSeq < 0 || sinceSeq > log.seq) return null
  return log.since(sinceSeq, maxBytes)
}

export function registerDashboard(namespace: DashboardNamespace, deps: DashboardDeps): void {
  const { state, batcher, fanout, tokens, logger, limits, caps } = deps
  const handlers = viewerHandlers(deps)
  const events = eventsOf(handlers)
  const mountOn = mounter(handlers, { logger })
  /** Viewers connected per token, by its name. */
  const perToken = new Map<string, number>()
  let connected = 0
  const presented = (socket: DashboardSocket) => (socket.handshake.auth as { token?: unknown } | undefined)?.token
  const addressOf = (socket: DashboardSocket) => clientAddress(socket.handshake.address, socket.handshake.headers)

  namespace.use((socket, next) => {
    const admission = admit(tokens, presented(socket), ['operator', 'viewer'])
    if (!admission.ok) {
      recordRefusal(deps.audit, admission, { address: addressOf(socket), via: 'socket', door: '/dashboard' })
      next(new Error(admission.code))
      return
    }
    const { identity } = admission
    const encoding = chooseEncoding(socket.handshake.auth)
    if (!encoding.ok) {
      logger.warn({ address: socket.handshake.address, reason: encoding.message }, 'connection refused')
      next(Object.assign(new Error('bad_request'), { data: { message: encoding.message } }))
      return
    }
    const cap =
      connected >= caps.total
        ? `the server has ${caps.total} viewers connected, its limit (--max-viewers)`
        : (perToken.get(identity.name) ?? 0) >= caps.perToken
          ? `${tokenLabel(identity.name)} has ${caps.perToken} viewers connected, its limit (--max-viewers-per-token)`
          : null
    if (cap !== null) {
      deps.refused?.(connected >= caps.total ? 'total' : 'perToken')
      logger.warn(
        { address: socket.handshake.address, actor: identity.name, role: identity.role, reason: cap },
        'viewer refused',
      )
      next(Object.assign(new Error('too_many_viewers'), { data: { message: `${cap}; try again later` } }))
      return
    }
    socket.data.role = identity.role
    socket.data.actor = identity.name
    socket.data.encoding = encoding.encoding
    next()
  })

  // A revoked (or rotated) token: its open connections end too.
  tokens.onChange(() => {
    for (const socket of namespace.sockets.values()) {
      const token = presented(socket)
      const identity = { name: socket.data.actor, role: socket.data.role }
      if (typeof token === 'string' && tokens.accepts(identity, token)) continue
      logger.warn({ id: socket.id, actor: identity.name }, 'viewer disconnected: its token is no longer accepted')
      socket.disconnect(true)
    }
  })

  namespace.on('connection', (socket: DashboardSocket) => {
    const { role, actor } = socket.data
    guardSocket(socket, {
      namespace: '/dashboard',
      events,
      limits: deps.limits,
      logger,
      counters: deps.counters,
      lagMs: deps.lagMs,
    })
    connected++
    perToken.set(actor, (perToken.get(actor) ?? 0) + 1)
    logger.info({ id: socket.id, actor, role, address: socket.handshake.address }, 'viewer connected')
    const connection = viewerConnection(socket, deps.encoder, deps.wsCompression)
    socket.on('disconnect', (reason) => {
      connected--
      const left = (perToken.get(actor) ?? 1) - 1
      if (left > 0) perToken.set(actor, left)
      else perToken.delete(actor)
      fanout.remove(connection)
      logger.info({ id: socket.id, reason }, 'viewer disconnected')
    })

    // Everything up to now goes out to the others first, so log.seq is the line:
    // this socket gets the state up to it (a snapshot, or the missed events when it
    // resumes from a seq still in the buffer) and then only later events.
    batcher.flush()
    const instance = deps.instance()
    const missed = resumeFrom(socket.handshake.auth, instance, state.log, limits.replayBytes)
    socket.emit('welcome', {
      role,
      encoding: connection.encoding,
      version: VERSION,
      serverTime: Date.now(),
      resumed: missed !== null,
      instance,
      routing: deps.routing,
    })
    fanout.add(connection, missed)
    const viewer: Viewer = {
      socket,
      connection,
      // Shared by every viewer until it subscribes (subscriptions are replaced, never changed).
      subscription: EVERYTHING,
      coordinator: state.coordinator,
      role,
      loopback: isLocalClient(socket.handshake.address, socket.handshake.headers),
      allowRemoteShell: deps.allowRemoteShell,
      alerts: state.alerts,
      history: state.history,
      schedules: deps.schedules,
      actor: { name: actor, role, address: addressOf(socket), via: 'socket' },
      audit: deps.audit,
      kinds: deps.kinds,
      token: () => presented(socket),
    }
    mountOn(socket, viewer)
  })
}
