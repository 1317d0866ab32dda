/**
 * Types read off a Socket.IO event map (protocol.ts), so that an event's
 * payload and the data of its acknowledgement are written once, in the map,
 * and the server's handler tables and the clients derive theirs from it.
 */
import type { Ack } from './result'

type Args<F> = F extends (...args: infer A) => void ? A : never
type Last<A> = A extends readonly [...unknown[], infer L] ? L : never

/** What a client sends with event `E` besides the ack; `undefined` for an event that carries nothing (`ping`). */
export type RequestOf<M, E extends keyof M> = Args<M[E]> extends [infer R, unknown] ? R : undefined

/** The data of `E`'s acknowledgement: the answer is a `Result<AckData<M, E>>`. */
export type AckData<M, E extends keyof M> = Last<Args<M[E]>> extends Ack<infer T> ? T : never
