/**
 * The cluster's Redis connections and key names, in one place. Every
 * connection reconnects by itself with a bounded backoff and fails commands
 * at once while it is down (no offline queue): a caller that cannot reach
 * Redis learns it now, not minutes later, and decides (a follower resyncs, a
 * leader's followers see a gap).
 */
import { createClient, type RedisClientType } from '@redis/client'
import type { Logger } from '../logger'

export type RedisConnection = RedisClientType

/** Every key the cluster uses, under one prefix (a Redis shared with other programs keeps them apart). */
export const CLUSTER_KEYS = {
  /**
   * The event stream: entry id `<seq>-0`, fields `t` (the writing leader's term), `e` (the event's JSON) and, on
   * the first entry of a leader whose swarm does not follow from the entries before, `r` (take a snapshot).
   */
  events: 'swarm:events',
  /** The highest leader term that wrote to Redis: older leaders' writes are refused (fencing). */
  term: 'swarm:term',
  /** The last snapshot a leader wrote for followers: JSON `{ term, snapshot }`. */
  snapshot: 'swarm:snapshot',
  /** Set by a follower that needs a snapshot newer than the stored one; the leader answers and clears it. */
  snapshotWanted: 'swarm:snapshot:wanted',
} as const

/** Backoff between reconnection attempts: 100 ms doubling to 2 s. */
export function reconnectDelay(retries: number): number {
  return Math.min(2_000, 100 * 2 ** Math.min(retries, 5))
}

/** A connected client; `purpose` names it in the log. Rejects when Redis cannot be reached at first. */
export async function connectRedis(url: string, logger: Logger, purpose: string): Promise<RedisConnection> {
  const client: RedisConnection = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnectDelay, connectTimeout: 5_000 },
  })
  let down = false
  client.on('error', (error: Error) => {
    if (down) return
    down = true
    logger.warn({ err: error, purpose }, 'cluster: Redis connection lost; reconnecting')
  })
  client.on('ready', () => {
    if (!down) return
    down = false
    logger.info({ purpose }, 'cluster: Redis connection back')
  })
  try {
    await client.connect()
  } catch (error) {
    client.destroy()
    throw error
  }
  return client
}
