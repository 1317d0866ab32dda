/**
 * The local agents of one server: `--local-agents N` plain ones (`local-1`…)
 * and the groups a swarm file declares (`local-<name>-1`…). All run only
 * `shell` tasks and carry the `shell` capability; a group's own capabilities
 * narrow which shell tasks reach it.
 *
 * Every command's process group is recorded in the process registry and told
 * to the reaper while it runs, so that neither a crash of the server nor a
 * restart leaves it running beside a second copy of its task.
 */
import type { Logger } from '../logger'
import type { AgentSpec, Coordinator } from '../coordinator/coordinator'
import { DEFAULT_KILL_GRACE_MS, LocalAgent, SHELL_KIND, type GroupWatcher, type LocalAgentOptions } from './local-agent'
import type { ProcessRegistry } from './process-registry'
import { ProcessReaper } from './reaper'

export interface LocalAgentGroup {
  name: string
  count: number
  capabilities: string[]
  concurrency: number
}

const HEARTBEAT_MS = 5000

/** The agents to run: `count` plain ones, then each group's. */
export function localAgentSpecs(count: number, groups: readonly LocalAgentGroup[] = []): AgentSpec[] {
  const spec = (id: string, name: string, capabilities: string[], concurrency: number): AgentSpec => ({
    id,
    name,
    kind: 'local',
    capabilities: [...new Set([SHELL_KIND, ...capabilities])],
    concurrency,
    kinds: [SHELL_KIND],
  })
  const specs: AgentSpec[] = []
  for (let i = 1; i <= count; i++) specs.push(spec(`local-${i}`, `local-${i}`, [], 1))
  for (const group of groups) {
    for (let i = 1; i <= group.count; i++) {
      specs.push(spec(`local-${group.name}-${i}`, `${group.name}-${i}`, group.capabilities, group.concurrency))
    }
  }
  return specs
}

export interface LocalAgentsOptions extends Omit<LocalAgentOptions, 'groups'> {
  /** Where running process groups are recorded (the data dir's); none: neither recorded nor reaped. */
  registry?: ProcessRegistry
  logger?: Logger
}

export class LocalAgents {
  private readonly agents: LocalAgent[] = []
  private heartbeats: NodeJS.Timeout | null = null
  private reaper: ProcessReaper | null = null

  constructor(
    private readonly coordinator: Coordinator,
    private readonly specs: readonly AgentSpec[],
    private readonly options: LocalAgentsOptions = {},
  ) {}

  get size(): number {
    return this.specs.length
  }

  /** The reaper's pid while it runs. */
  get reaperPid(): number | undefined {
    return this.reaper?.pid
  }

  start(): void {
    const groups = this.specs.length > 0 ? this.watchGroups() : undefined
    for (const spec of this.specs) {
      const agent = new LocalAgent(spec.id, this.coordinator, { ...this.options, groups })
      this.coordinator.addAgent(spec, agent)
      this.agents.push(agent)
    }
    if (this.agents.length === 0) return
    // They live in this process, so they are as alive as it is; the heartbeat keeps "last seen" honest.
    this.heartbeats = setInterval(() => {
      for (const agent of this.agents) this.coordinator.heartbeat(agent.id)
    }, HEARTBEAT_MS)
    this.heartbeats.unref()
  }

  /** Ends every running command's process group. */
  async stop(): Promise<void> {
    if (this.heartbeats) clearInterval(this.heartbeats)
    this.heartbeats = null
    await Promise.all(this.agents.map((agent) => agent.stop()))
    this.reaper?.stop()
    this.reaper = null
  }

  private watchGroups(): GroupWatcher | undefined {
    const { registry, logger } = this.options
    if (!registry) return undefined
    const reaper = new ProcessReaper({
      graceMs: this.options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      warn: (message, fields) => logger?.warn(fields ?? {}, message),
    })
    reaper.start()
    this.reaper = reaper
    if (reaper.pid !== undefined) logger?.debug({ reaperPid: reaper.pid }, 'process reaper started')
    return {
      started: (pgid, taskId) => {
        reaper.add(pgid)
        try {
          registry.add(pgid, taskId)
        } catch (error) {
          logger?.warn(
            { pgid, taskId, err: (error as Error).message },
            "could not record a shell task's process group: a restart after a crash may not end it",
          )
        }
      },
      ended: (pgid) => {
        reaper.remove(pgid)
        try {
          registry.remove(pgid)
        } catch (error) {
          // A record left behind is only checked, and found gone, at the next start.
          logger?.warn({ pgid, err: (error as Error).message }, 'could not remove a process group record')
        }
      },
    }
  }
}
