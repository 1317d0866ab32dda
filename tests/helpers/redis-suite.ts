/**
 * One Redis server (tests/helpers/redis.ts) for the enclosing suite, a file or
 * a `describe`: started before its tests, removed after them. Kept apart from
 * redis.ts, which the bench imports outside Vitest.
 */
import { afterAll, beforeAll } from 'vitest'
import { startRedis, type Redis } from './redis'

/** Registers the hooks; the returned function gives the server once it is up. */
export function redisForSuite(): () => Redis {
  let redis: Redis | undefined
  beforeAll(async () => {
    redis = await startRedis()
  }, 20_000)
  afterAll(() => redis?.destroy())
  return () => {
    if (!redis) throw new Error('the suite’s Redis server is not started yet')
    return redis
  }
}
