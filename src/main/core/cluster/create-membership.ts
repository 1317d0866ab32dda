/**
 * The one place the config picks the membership: a single node, or one node
 * of a cluster on Redis and PostgreSQL (config.ts has refused --redis
 * without a postgres:// --database).
 */
import type { DatabaseTarget } from '../config/database-url'
import type { Logger } from '../logger'
import { ConfigError } from '../start-error'
import { Leadership } from './leadership'
import { singleNode, type Membership, type NodeLoad } from './membership'
import { RedisMembership } from './redis-membership'

export interface MembershipSettings {
  /** `--redis`: null runs a single node. */
  redis: string | null
  database: DatabaseTarget
  nodeId: string
  logger: Logger
  load: () => NodeLoad
}

export function createMembership(settings: MembershipSettings): Membership {
  const { redis, database, nodeId, logger, load } = settings
  if (redis === null) return singleNode({ nodeId, load })
  // loadConfig refuses it already; a Config built by hand may not have been through it.
  if (database.kind !== 'postgres') throw new ConfigError('cluster mode (--redis) needs a postgres:// --database')
  const leadership = new Leadership({ url: database.url, nodeId, logger })
  return new RedisMembership({ url: redis, nodeId, leadership, logger, load })
}
