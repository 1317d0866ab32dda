/**
 * How a schedule's run reaches the swarm: through the same durable submit
 * path as an operator's `task:submit` and `workflow:submit` (durable-submit.ts),
 * so a run the history cannot take is refused, never accepted and lost; and
 * where a run stands, read from the coordinator (the overlap rule, the answers).
 */
import { TaskSubmitSchema, WorkflowSubmitSchema } from '../../../shared/commands'
import { fail, ok, type Result } from '../../../shared/result'
import type { ScheduleRunner } from '../schedules/schedule-runs'
import { CoordinatorError, type Coordinator } from '../coordinator/coordinator'
import { submitDurably, type SubmitHistory } from './durable-submit'

function attempt<T>(work: () => T): Result<T> {
  try {
    return ok(work())
  } catch (error) {
    if (error instanceof CoordinatorError) return fail(error.code, error.message)
    return fail('bad_request', (error as Error).message)
  }
}

export function coordinatorRunner(coordinator: Coordinator, history: SubmitHistory): ScheduleRunner {
  return {
    async submit(target) {
      if ('task' in target) {
        const result = await submitDurably(
          history,
          coordinator,
          () => attempt(() => coordinator.submit(TaskSubmitSchema.parse(target.task))),
          (task) => [task.id],
        )
        return result.ok ? ok({ taskId: result.data.id, workflowId: null }) : result
      }
      const result = await submitDurably(
        history,
        coordinator,
        () => attempt(() => coordinator.submitWorkflow(WorkflowSubmitSchema.parse(target.workflow))),
        (workflow) => workflow.tasks.map((task) => task.id),
      )
      return result.ok ? ok({ taskId: null, workflowId: result.data.id }) : result
    },
    stateOf(run) {
      if (run.workflowId) return coordinator.getWorkflow(run.workflowId)?.state ?? null
      if (run.taskId) return coordinator.getTask(run.taskId)?.status ?? null
      return null
    },
  }
}
