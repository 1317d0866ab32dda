/** The kinds as `GET /api/kinds` lists them: counts from the book and the roster, limits from the limiter. */
import type { KindInfo } from '../../../shared/kinds'
import type { AgentRoster } from './agent-roster'
import type { KindLimiter } from './kind-limits'
import type { TaskBook } from './task-book'

/** Tasks of each kind on agents now, from what the agents hold (a few, not every task in memory). */
export function runningByKind(roster: AgentRoster, book: TaskBook): Map<string, number> {
  const running = new Map<string, number>()
  for (const entry of roster.list()) {
    for (const taskId of entry.agent.currentTaskIds) {
      const kind = book.get(taskId)?.kind
      if (kind !== undefined) running.set(kind, (running.get(kind) ?? 0) + 1)
    }
  }
  return running
}

/** Every kind in memory or with limits set, by name; with `only`, that kind alone (even when it is neither). */
export function kindInfo(book: TaskBook, limits: KindLimiter, only?: string): KindInfo[] {
  const counts = book.countByKind()
  const kinds = only !== undefined ? [only] : [...new Set([...counts.keys(), ...limits.configured().keys()])].sort()
  return kinds.map((kind) => ({
    kind,
    ...limits.get(kind),
    queued: counts.get(kind)?.queued ?? 0,
    running: counts.get(kind)?.running ?? 0,
    dispatchedLastMinute: limits.recent(kind),
    held: limits.hold(kind),
  }))
}
