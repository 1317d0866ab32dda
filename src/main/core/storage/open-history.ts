/**
 * The one place a history adapter is chosen: from `--database` (config/
 * database-url.ts) to a `TaskHistory`. Nothing is opened here; `open()` does
 * that at start.
 */
import type { DatabaseTarget } from '../config/database-url'
import type { HistoryBackend } from './backend'
import { BufferedHistory, type HistoryOptions } from './buffered-history'
import type { TaskHistory } from './history'
import type { OperatorStore } from './operator-store'
import { PostgresBackend } from './postgres-backend'
import { SqliteBackend } from './sqlite-backend'

export interface BackendOptions {
  /** The SQLite addon to load instead of better-sqlite3's own build (see SqliteOptions.nativeBinding). */
  sqliteBinding?: string
  /** The schema version to stop at (tests of migrations); default the latest. */
  targetVersion?: number
}

export function historyBackend(
  target: DatabaseTarget,
  options: BackendOptions & Pick<HistoryOptions, 'logger'> = {},
): HistoryBackend {
  return target.kind === 'sqlite'
    ? new SqliteBackend({
        file: target.file,
        nativeBinding: options.sqliteBinding,
        targetVersion: options.targetVersion,
        warn: (message) => options.logger?.warn({ database: `sqlite:${target.file}` }, message),
      })
    : new PostgresBackend({ url: target.url, targetVersion: options.targetVersion })
}

export function createHistory(target: DatabaseTarget, options: HistoryOptions & BackendOptions): TaskHistory {
  return new BufferedHistory(historyBackend(target, options), options)
}

/** The history and the operator's records (operator-store.ts), in one database: open the history before using both. */
export function createStorage(
  target: DatabaseTarget,
  options: HistoryOptions & BackendOptions,
): { history: TaskHistory; operator: OperatorStore } {
  const backend = historyBackend(target, options)
  return { history: new BufferedHistory(backend, options), operator: backend.operatorStore() }
}
