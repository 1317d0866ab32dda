import type { TaskSummary } from '../../../shared/domain'
import { isOnAgent, isRetryable } from '../statuses'
import { useCommand } from './useCommand'
import { useConfirm } from './useConfirm'

/** Cancel and retry, each confirmed first: both change what runs on the swarm's machines. */
export function useTaskActions() {
  const { busy, notice, run } = useCommand()
  const { confirm } = useConfirm()

  async function cancel(task: TaskSummary): Promise<void> {
    const ok = await confirm({
      title: `Cancel ${task.name}?`,
      body: isOnAgent(task.status)
        ? 'The task is stopped on its agent now; the work it has done so far is lost.'
        : 'The task leaves the queue and will not run.',
      confirmLabel: 'Cancel task',
      danger: true,
    })
    if (ok) await run('task:cancel', { taskId: task.id }, task.id, `Cancel ${task.name}`)
  }

  async function retry(task: TaskSummary): Promise<void> {
    const ok = await confirm({
      title: `Retry ${task.name}?`,
      body: `It is queued again and runs as attempt ${task.attempts + 1}${task.kind === 'shell' ? ', running its command once more' : ''}.`,
      confirmLabel: 'Retry task',
    })
    if (ok) await run('task:retry', { taskId: task.id }, task.id, `Retry ${task.name}`)
  }

  function retryable(task: TaskSummary): boolean {
    return isRetryable(task.status)
  }

  return { busy, notice, cancel, retry, retryable }
}
