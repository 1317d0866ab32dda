/** The alerts engine's view of the live swarm: the coordinator and the metrics sampler. */
import type { Task } from '../../../shared/domain'
import type { Coordinator } from '../coordinator/coordinator'
import type { MetricsSampler } from '../metrics/sampler'
import type { TaskHistory } from '../storage/history'
import type { AlertSources } from './engine'

/** Two minutes of one-second samples: more than any built-in rule looks back. */
const SAMPLES = 120

export function swarmSources(
  coordinator: Coordinator,
  sampler: MetricsSampler,
  history?: Pick<TaskHistory, 'outage'>,
): AlertSources {
  return {
    historyOutage: () => history?.outage() ?? null,
    agents: () => coordinator.listAgents(),
    activeTasks: (): Task[] => {
      const all = Number.MAX_SAFE_INTEGER
      return [
        ...coordinator.listTasks({ status: 'running', limit: all }).tasks,
        ...coordinator.listTasks({ status: 'assigned', limit: all }).tasks,
      ]
    },
    samples: () => sampler.state(SAMPLES).history,
  }
}
