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
import { callGuarded, type Answer } from './guard'

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

/**
 * What `mount` needs of a socket: a typed Socket.IO socket of the table's map is one. It calls its listeners with
 * itself as `this`, as Node's EventEmitter does (Socket.IO's `socket.on` listeners run after its middleware, the
 * guard; `onAny` listeners would run before it).
 */
export interface Listening<M> {
  on(event: keyof M & string, listener: (this: unknown, ...args: unknown[]) => void): unknown
}

export interface MountOptions<M, C = unknown> {
  logger: Logger
  /** Sees the answers a client sent no ack for. */
  noAck?: (event: keyof M & string) => Ack<unknown>
  /** Sees every answer a handler gave (not the guard's `internal`), as it leaves. */
  answered?: (event: keyof M & string, result: Result<unknown>, context: C) => void
}

const ignore: Ack<unknown> = () => {}

/**
 * The table made ready to mount on many connections: each handler guarded
 * (guard.ts `callGuarded`) and wrapped once, here, and one listener per
 * event shared by every connection, which finds its context by the socket
 * it is called on — so a connection costs its context, not a handful of
 * closures per event (~3 KB of heap per viewer; docs/performance.md,
 * scenario 13).
 */
export function mounter<M, C>(
  table: HandlerTable<M, C>,
  options: MountOptions<M, C>,
): (socket: Listening<M>, context: C) => void {
  const { logger, answered } = options
  const contexts = new WeakMap<object, C>()
  const listeners: [keyof M & string, (this: unknown, ...args: unknown[]) => void][] = []
  // The table's type has exactly the map's keys, and nothing adds others to it.
  for (const event of Object.keys(table) as (keyof M & string)[]) {
    const handler = table[event]
    const run = (payload: unknown, context: C): Answer<unknown> => {
      const answer = handler(payload, context, event)
      if (!answered) return answer
      const seen = <T>(result: Result<T>): Result<T> => {
        answered(event, result, context)
        return result
      }
      return answer instanceof Promise ? answer.then(seen) : seen(answer)
    }
    const noAck = options.noAck?.(event) ?? ignore
    listeners.push([
      event,
      function (this: unknown, ...args: unknown[]) {
        const context = contexts.get(this as object) as C
        callGuarded(logger, event, (payload) => run(payload, context), noAck, args)
      },
    ])
  }
  return (socket, context) => {
    contexts.set(socket, context)
    for (const [event, listener] of listeners) socket.on(event, listener)
  }
}

/** Listens for every event of the table on `socket` (`mounter`, for one connection). */
export function mount<M, C>(
  socket: Listening<M>,
  table: HandlerTable<M, C>,
  context: C,
  options: MountOptions<M, C>,
): void {
  mounter(table, options)(socket, context)
}
