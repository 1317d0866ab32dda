/**
 * The local agents of one server: `--local-agents N` plain ones (`local-1`…)
 * and the groups a swarm file declares (`local-<name>-1`…). All run only
 * `shell` tasks and carry the `shell` capability; a group's own capabilities
 * narrow which shell tasks reach it.
 */
import type { AgentSpec, Coordinator } from '../coordinator/coordinator'
import { LocalAgent, SHELL_KIND, type LocalAgentOptions } from './local-agent'

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

export class LocalAgents {
  private readonly agents: LocalAgent[] = []
  private heartbeats: NodeJS.Timeout | null = null

  constructor(
    private readonly coordinator: Coordinator,
    private readonly specs: readonly AgentSpec[],
    private readonly options: LocalAgentOptions = {},
  ) {}

  get size(): number {
    return this.specs.length
  }

  start(): void {
    for (const spec of this.specs) {
      const agent = new LocalAgent(spec.id, this.coordinator, this.options)
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
  }
}
