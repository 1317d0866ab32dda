/**
 * This server as a node, in one object for the core (core.ts): its
 * membership (membership.ts) and, with `--redis`, what it does in its role
 * (cluster-role.ts), with the answers the server's doors need — where to send
 * an API call, a command or an agent (the leader, while this node follows),
 * what a resuming viewer's `instance` must be. A single
 * node (no `--redis`) is its own leader and every answer says "here".
 */
import { randomUUID } from 'node:crypto'
import type { DatabaseTarget } from '../config/database-url'
import { redisShown } from '../config/cluster-settings'
import type { Logger } from '../logger'
import { StartError } from '../start-error'
import { ClusterRole, type FollowedPipeline } from './cluster-role'
import { createMembership } from './create-membership'
import type { Membership, NodeLoad } from './membership'

export interface ClusterNodeOptions {
  /** `--redis`: null runs a single node. */
  redis: string | null
  database: DatabaseTarget
  nodeId: string
  logger: Logger
  /** This node's figures for the others (read once it runs). */
  load(): NodeLoad
  pipeline: FollowedPipeline
  /** Starts what only the leader runs, the history's ids at hand (cluster mode: when this node is elected). */
  lead(storedIds: ReadonlySet<string>): void | Promise<void>
  /** This node led and no longer does: it must stop. */
  deposed(reason: string): void
}

export class ClusterNode {
  readonly membership: Membership
  /** Null for a single node. */
  private readonly role: ClusterRole | null
  private readonly processInstance = randomUUID()

  constructor(private readonly options: ClusterNodeOptions) {
    const { redis, database, nodeId, logger, load, pipeline } = options
    this.membership = createMembership({ redis, database, nodeId, logger, load })
    this.role =
      redis === null
        ? null
        : new ClusterRole({
            redisUrl: redis,
            nodeId,
            logger,
            pipeline,
            election: this.membership,
            lead: options.lead,
            deposed: options.deposed,
          })
    // A new epoch (Redis lost its data): no viewer's state can be trusted to lead to the next events.
    this.membership.onEpoch((_epoch, previous) => {
      if (previous === null) return
      pipeline.fanout.resyncAll()
      this.role?.resync()
    })
  }

  /** Whether this node is one of a cluster (`--redis`): it follows until elected, and takes no tasks at start. */
  get clustered(): boolean {
    return this.role !== null
  }

  /** Where API calls, commands and agents go: the leader's URL while this node follows; null while it leads (or alone). */
  forwardTo(): string | null | 'unknown' {
    if (this.role === null || this.role.role === 'leader') return null
    return this.membership.leaderUrl() ?? 'unknown'
  }

  /** What a resuming viewer's `auth.instance` must be for a replay: the cluster's epoch, or this process. */
  instance(): string {
    return this.role ? this.membership.epoch() : this.processInstance
  }

  /**
   * Once the server listens (its first report gives the others its URL): joins, and in cluster mode follows the
   * leader's stream (and leads when elected). Redis unreachable at start is a StartError, as a database is.
   */
  async start(): Promise<void> {
    await this.membership.start()
    if (this.role === null) return
    try {
      await this.role.start()
    } catch (error) {
      const where = redisShown(this.options.redis!)
      throw new StartError(`cannot reach Redis at ${where}: ${(error as Error).message}`, 2)
    }
  }

  /** Leaves first, so that another node takes the lead while this one closes. */
  async stop(): Promise<void> {
    await this.membership.stop()
    await this.role?.stop()
  }
}
