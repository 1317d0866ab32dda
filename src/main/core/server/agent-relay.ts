/**
 * Agents on a cluster follower (docs/cluster.md): the follower admits the
 * agent (its token, its limits) and relays its connection to the leader's
 * `/agents` as a Socket.IO client of its own — one upstream connection per
 * agent, the agent's token and address passed on — so the leader's one
 * coordinator sees every agent of the cluster as it sees its own: the same
 * registration, heartbeats, reports and acknowledgements, in both directions.
 *
 * How it ends says what happened, as on a direct connection:
 * - the agent closes (`disconnect()`): the upstream closes cleanly too (the
 *   leader records a clean disconnect); the agent's link drops: the upstream's
 *   transport is cut (a dropped connection at the leader);
 * - the leader closes the agent (`replaced`, silent): the agent is closed by
 *   this node the same way (its SDK stops the tasks, which were requeued);
 * - the leader goes away (a failover): the agent's transport is cut, so it
 *   reconnects and registers again naming its tasks, which the new leader
 *   gives back (reclaims).
 */
import { io as connect, type Socket as ClientSocket } from 'socket.io-client'
import type { AgentsClientToServer, AgentsServerToClient } from '../../../shared/protocol'
import { AGENTS_NAMESPACE } from '../../../shared/protocol'
import type { Logger } from '../logger'
import { FORWARDED_BY } from './leader-proxy'

/** What the leader sends an agent; relayed as they come, with their acknowledgements. */
const FROM_LEADER = [
  'task:assign',
  'task:cancel',
  'agent:closed',
] as const satisfies readonly (keyof AgentsServerToClient)[]

/** The agent's side, as the relay needs it (a Socket.IO server socket of `/agents`). */
export interface RelayedAgent {
  readonly handshake: { auth: unknown }
  readonly connected: boolean
  on(event: string, listener: (...args: unknown[]) => void): unknown
  emit(event: string, ...args: unknown[]): unknown
  disconnect(close?: boolean): unknown
  /** The engine connection: closing it cuts the transport without a namespace goodbye. */
  readonly conn: { close(): unknown }
}

export interface RelayOptions {
  leader: string
  nodeId: string
  /** The agent's address, passed on in `X-Forwarded-For`. */
  address: string
  /** The events an agent may send (the `/agents` handler table's), each guarded here before it is relayed. */
  events: ReadonlySet<string>
  logger: Logger
  /** Told when the relay ends (for this node's count of agents). */
  ended(): void
}

export function relayAgent(agent: RelayedAgent, options: RelayOptions): void {
  const { logger } = options
  const upstream: ClientSocket = connect(new URL(AGENTS_NAMESPACE, options.leader).toString(), {
    auth: (agent.handshake.auth ?? {}) as Record<string, unknown>,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { 'x-forwarded-for': options.address, [FORWARDED_BY]: options.nodeId },
  })
  let open = true
  const end = () => {
    if (!open) return
    open = false
    options.ended()
  }

  // Emitted before the upstream is connected, they wait in its buffer, acknowledgement callbacks included.
  for (const event of options.events) {
    agent.on(event, (...args: unknown[]) => void upstream.emit(event as keyof AgentsClientToServer, ...(args as [])))
  }
  for (const event of FROM_LEADER) {
    upstream.on(event, (...args: unknown[]) => void agent.emit(event, ...args))
  }

  upstream.on('connect_error', (error: Error) => {
    logger.warn({ err: error, leader: options.leader }, 'cluster: an agent could not be relayed to the leader')
    // A transport cut, not a refusal: the agent tries again (by then there may be another leader).
    if (agent.connected) agent.conn.close()
    end()
  })
  upstream.on('disconnect', (reason) => {
    end()
    if (!agent.connected) return
    // The leader closed it (agent:closed came first): so does this node. The leader went away: the agent's
    // transport is cut, and it comes back naming its tasks.
    if (reason === 'io server disconnect') agent.disconnect(true)
    else agent.conn.close()
  })
  agent.on('disconnect', (reason: unknown) => {
    end()
    if (reason === 'client namespace disconnect') upstream.disconnect()
    else upstream.io.engine?.close()
  })
}
