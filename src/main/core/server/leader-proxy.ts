/**
 * A cluster follower answers the HTTP API by asking the leader (docs/cluster.md):
 * the leader holds the coordinator, so its answers are the swarm's, for reads
 * and writes alike. What a follower serves itself: `/api/cluster` (its own
 * view of the nodes) and `/api/snapshot` (its copy of the swarm, the one its
 * viewers are sent, so the polling fallback agrees with them). The rest of
 * `/api/` is sent on as it came — method, path, query, body, the caller's
 * `Authorization` — with the caller's address appended to `X-Forwarded-For`,
 * and the answer comes back as the leader gave it, streamed (exports too).
 * The leader checks the token, the role and the limits itself.
 *
 * A request that already came through a node is never sent on again (no
 * loops while an election settles); with no leader known, or the leader
 * unreachable, the answer is `503` and a `Retry-After`.
 */
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../logger'
import { clientAddress } from './auth'
import { sendError } from './replies'

/** Marks a request a node sent on; its value is the node's id. */
export const FORWARDED_BY = 'x-swarm-monitor-node'
/** Routes a follower answers itself. */
const LOCAL = new Set(['/api/cluster', '/api/snapshot'])
/** Request headers sent on; the others (cookies, connection, host) are the hop's own. */
const SENT_ON = ['authorization', 'content-type', 'accept', 'accept-encoding', 'user-agent'] as const
/** Answer headers brought back. */
const BROUGHT_BACK = ['content-type', 'content-disposition', 'content-encoding', 'retry-after', 'cache-control']
/** How long the leader may take to start answering (an export then streams for as long as it takes). */
const ANSWER_TIMEOUT_MS = 30_000

export interface LeaderProxyOptions {
  nodeId: string
  logger: Logger
  /** The leader's URL when this node follows; null when it leads (or stands alone). */
  forwardTo(): string | null | 'unknown'
}

export function addLeaderProxy(app: FastifyInstance, options: LeaderProxyOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!
    // The origin-form only ("/api/…"): an absolute-form target ("http://elsewhere/api/…") is never sent anywhere.
    if (!path.startsWith('/api/') || LOCAL.has(path)) return
    const leader = options.forwardTo()
    if (leader === null) return
    if (leader === 'unknown' || request.headers[FORWARDED_BY] !== undefined) {
      void reply.header('retry-after', '2')
      return sendError(reply, 'unavailable', 'no cluster leader is known right now (an election is under way); retry')
    }
    return forward(request, reply, leader, options)
  })
}

async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  leader: string,
  options: LeaderProxyOptions,
): Promise<FastifyReply> {
  const headers: Record<string, string> = { [FORWARDED_BY]: options.nodeId }
  for (const name of SENT_ON) {
    const value = request.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  const address = clientAddress(request.socket.remoteAddress, request.headers)
  const before = request.headers['x-forwarded-for']
  headers['x-forwarded-for'] = typeof before === 'string' ? `${before}, ${address}` : address
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
  let answer: Response
  try {
    const target = new URL(leader)
    const [pathname, search] = splitTarget(request.url)
    target.pathname = pathname
    target.search = search
    answer = await fetch(target, {
      method: request.method,
      headers,
      ...(hasBody ? { body: Readable.toWeb(request.raw) as unknown as RequestInit['body'], duplex: 'half' } : {}),
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      redirect: 'manual',
    } as RequestInit)
  } catch (error) {
    options.logger.warn({ err: error, leader, path: request.url.split('?')[0] }, 'cluster: the leader did not answer')
    void reply.header('retry-after', '2')
    return sendError(reply, 'unavailable', 'the cluster leader did not answer; retry')
  }
  void reply.code(answer.status)
  for (const name of BROUGHT_BACK) {
    const value = answer.headers.get(name)
    if (value !== null) void reply.header(name, value)
  }
  if (answer.body === null) return reply.send()
  return reply.send(Readable.fromWeb(answer.body as unknown as WebReadableStream))
}

/** A request target's path and query, as given ("/api/tasks?q=x" → "/api/tasks", "?q=x"). */
function splitTarget(url: string): [string, string] {
  const at = url.indexOf('?')
  return at === -1 ? [url, ''] : [url.slice(0, at), url.slice(at)]
}
