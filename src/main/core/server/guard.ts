/**
 * What stands between a Socket.IO message and its handler, on both
 * namespaces: a per-connection token bucket, a list of the events the
 * namespace knows, a nesting limit, and a wrapper that keeps bad input and
 * bugs away from Socket.IO. Every refusal is answered through the ack when
 * there is one; nothing here throws.
 */
import type { Socket } from 'socket.io'
import { fail, type Ack, type Result } from '../../../shared/result'
import type { Logger } from '../logger'
import type { Limits } from './limits'

/** What a handler answers: at once, or later (a handler that waits for a write). */
export type Answer<T> = Result<T> | Promise<Result<T>>

/**
 * Socket.IO hands a listener the client's ack as a plain function that sends
 * whatever it is given; which `Result` goes into it is the handler's type.
 */
export function isAck<T>(value: unknown): value is Ack<T> {
  return typeof value === 'function'
}

/**
 * Wraps a handler: the payload is the first argument unless that is the ack,
 * the ack is the last argument when it is a function (anything else is no
 * ack), and a handler that throws, or whose promise rejects, answers
 * `internal` (and is logged) instead of reaching Socket.IO or becoming an
 * unhandled rejection. `noAck` sees the answers a client did not ask for.
 */
export function guarded<T>(
  logger: Logger,
  event: string,
  handler: (payload: unknown) => Answer<T>,
  noAck: Ack<T> = () => {},
): (...args: unknown[]) => void {
  return (...args: unknown[]) => callGuarded(logger, event, handler, noAck, args)
}

/** `guarded`'s listener body, for a caller that dispatches many events through one listener (handler-table.ts). */
export function callGuarded<T>(
  logger: Logger,
  event: string,
  handler: (payload: unknown) => Answer<T>,
  noAck: Ack<T>,
  args: readonly unknown[],
): void {
  const last = args.at(-1)
  const reply: Ack<T> = isAck<T>(last) ? last : noAck
  const answer = (result: Result<T>): void => {
    try {
      reply(result)
    } catch (error) {
      logger.error({ err: error, event }, 'reply failed')
    }
  }
  const failed = (error: unknown): void => {
    logger.error({ err: error, event }, 'handler failed')
    answer(fail('internal', 'the server failed to handle this message'))
  }
  let result: Answer<T>
  try {
    result = handler(isAck(last) && args.length === 1 ? undefined : args[0])
  } catch (error) {
    return failed(error)
  }
  // A synchronous answer leaves at once, before anything the handler set off can send.
  if (result instanceof Promise) result.then(answer, failed)
  else answer(result)
}

export type BucketVerdict = 'ok' | 'limited' | 'abusive'

/**
 * A token bucket: `burst` messages at once, then `perSecond`. A client that
 * keeps being refused, with no second between two refusals, for `abuseMs`
 * is abusive.
 *
 * The bucket judges a message when the server handles it, so a server that
 * was busy (`lagMs`: how late its event loop ran recently, loop-lag.ts) hands
 * it messages that were sent over a longer time than it saw pass. The burst
 * widens by `perSecond` × that lag while it is recent: a client that kept to
 * the limit is never refused for the server's own backlog, and a flooder
 * gains no more than it would have been allowed had the server kept up.
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number
  private floodingSince: number | null = null
  private lastRefusedAt = 0

  constructor(
    private readonly limits: Pick<Limits, 'socketPerSecond' | 'socketBurst' | 'socketAbuseMs'>,
    private readonly now: () => number = Date.now,
    private readonly lagMs: () => number = () => 0,
  ) {
    this.tokens = limits.socketBurst
    this.updatedAt = now()
  }

  /** True while the client is in a flood (refused within the last second). */
  get flooding(): boolean {
    return this.floodingSince !== null && this.now() - this.lastRefusedAt <= 1000
  }

  /** The bucket's size now: the burst, plus what the server's recent lag owes. */
  get capacity(): number {
    return this.limits.socketBurst + (this.limits.socketPerSecond * Math.max(0, this.lagMs())) / 1000
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt)
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.limits.socketPerSecond) / 1000)
    this.updatedAt = now
  }

  take(): BucketVerdict {
    const now = this.now()
    this.refill(now)
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 'ok'
    }
    if (this.floodingSince === null || now - this.lastRefusedAt > 1000) this.floodingSince = now
    this.lastRefusedAt = now
    return now - this.floodingSince >= this.limits.socketAbuseMs ? 'abusive' : 'limited'
  }
}

/** True when `value` nests arrays or objects more than `max` levels deep. Iterative: no input can overflow the stack. */
export function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!
    if (item === null || typeof item !== 'object' || ArrayBuffer.isView(item) || item instanceof ArrayBuffer) continue
    if (depth >= max) return true
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1])
  }
  return false
}

export interface GuardCounters {
  unknownEvent(namespace: string): void
  rateLimited(namespace: string): void
}

export interface SocketGuardOptions {
  /** `/dashboard` or `/agents`, for logs and metrics. */
  namespace: string
  /** The events this namespace handles; anything else is ignored and counted. */
  events: ReadonlySet<string>
  limits: Limits
  logger: Logger
  counters?: GuardCounters
  /** Sees refusals a client sent no ack for. */
  unanswered?: (event: string, result: Result<never>) => void
  /**
   * Messages the bucket does not judge nor count: ones whose number the
   * server bounds itself (one per piece of work it handed out), so they
   * cannot flood, and whose refusal would strand that work.
   */
  exempt?: (event: string, args: readonly unknown[]) => boolean
  /** How late the server's event loop ran recently, ms (loop-lag.ts); credited to the bucket. Default: none. */
  lagMs?: () => number
}

/** Event names from clients are theirs to choose: answered short, and logged only when shaped like one of ours. */
const shown = (event: unknown): string => (typeof event === 'string' ? event.slice(0, 64) : typeof event)
const logged = (event: unknown): string =>
  typeof event === 'string' && /^[a-z]{1,16}(:[a-z]{1,16})?$/.test(event) ? event : '(not shown)'

/**
 * Installs the guard as the socket's first middleware: every incoming event
 * passes the rate limit, then the list of known events, then the nesting
 * limit, before any handler sees it.
 */
export function guardSocket(socket: Socket, options: SocketGuardOptions): void {
  const { namespace, events, limits, logger, counters } = options
  const bucket = new TokenBucket(limits, Date.now, options.lagMs)
  let closing = false

  socket.use((packet, next) => {
    if (closing) return
    const [event, ...rest] = packet as unknown[]
    const last = rest.at(-1)
    if (isAck(last)) rest.pop()
    const ack: Ack<never> = isAck<never>(last) ? last : (result) => options.unanswered?.(logged(event), result)

    const wasFlooding = bucket.flooding
    const exempt = typeof event === 'string' && events.has(event) && options.exempt?.(event, rest) === true
    const verdict = exempt ? 'ok' : bucket.take()
    if (verdict !== 'ok') {
      counters?.rateLimited(namespace)
      ack(
        fail(
          'rate_limited',
          `too many messages: this connection may send ${limits.socketPerSecond} a second (bursts of ${limits.socketBurst}); this one was not processed, send it again later`,
        ),
      )
      if (!wasFlooding) logger.warn({ id: socket.id, namespace, address: socket.handshake.address }, 'rate limited')
      if (verdict === 'abusive') {
        closing = true
        logger.warn(
          {
            id: socket.id,
            namespace,
            address: socket.handshake.address,
            reason: `over ${limits.socketPerSecond} messages a second for ${limits.socketAbuseMs / 1000} s`,
          },
          'connection closed for flooding',
        )
        socket.disconnect(true)
      }
      return
    }
    if (typeof event !== 'string' || !events.has(event)) {
      counters?.unknownEvent(namespace)
      logger.debug({ id: socket.id, namespace, event: logged(event) }, 'unknown event ignored')
      ack(fail('bad_request', `unknown event "${shown(event)}" on ${namespace}`))
      return
    }
    // `rest` is one level itself.
    if (depthExceeds(rest, limits.maxDepth + 1)) {
      ack(fail('bad_request', `${event}: the message nests deeper than ${limits.maxDepth} levels`))
      return
    }
    next()
  })
}
