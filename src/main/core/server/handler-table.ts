/**
 * A namespace's handlers as one table typed from its event map
 * (protocol.ts): one entry per event the clients may send, each answering
 * the `Result` its acknowledgement carries. An event added to the map
 * without a handler, or a handler answering the wrong shape, does not
 * compile; the events the guard lets through are the table's keys.
 */
import type { AckData } from '../../../shared/event-map'
import type { Ack, Result } from '../../../shared/result'
import type { Logger } from '../logger'
import { guarded, type Answer } from './guard'

/**
 * Handles event `E`. The payload is `unknown` whatever the map says: a client
 * sends what it likes, so every handler validates it. `context` is the
 * connection's (or the request's); `event` is `E`, for messages.
 */
export type Handler<M, E extends keyof M, C> = (payload: unknown, context: C, event: E) => Answer<AckData<M, E>>

export type HandlerTable<M, C> = { readonly [E in keyof M]: Handler<M, E, C> }

/** The events a table handles, for the guard's list of known events. */
export function eventsOf<M, C>(table: HandlerTable<M, C>): ReadonlySet<string> {
  return new Set(Object.keys(table))
}

/** What `mount` needs of a socket: a typed Socket.IO socket of the table's map is one. */
export interface Listening<M> {
  on(event: keyof M & string, listener: (...args: unknown[]) => void): unknown
}

export interface MountOptions<M> {
  logger: Logger
  /** Sees the answers a client sent no ack for. */
  noAck?: (event: keyof M & string) => Ack<unknown>
  /** Sees every answer a handler gave (not the guard's `internal`), as it leaves. */
  answered?: (event: keyof M & string, result: Result<unknown>) => void
}

/** Listens for every event of the table on `socket`, each handler guarded (guard.ts `guarded`). */
export function mount<M, C>(
  socket: Listening<M>,
  table: HandlerTable<M, C>,
  context: C,
  options: MountOptions<M>,
): void {
  const { logger, answered } = options
  // The table's type has exactly the map's keys, and nothing adds others to it.
  for (const event of Object.keys(table) as (keyof M & string)[]) {
    const handler = table[event]
    const seen = <T>(result: Result<T>): Result<T> => {
      answered?.(event, result)
      return result
    }
    const run = (payload: unknown): Answer<AckData<M, typeof event>> => {
      const answer = handler(payload, context, event)
      if (!answered) return answer
      return answer instanceof Promise ? answer.then(seen) : seen(answer)
    }
    socket.on(event, guarded(logger, event, run, options.noAck?.(event)))
  }
}
