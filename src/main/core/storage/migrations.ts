/**
 * Schema versions, the same scheme for both databases: each backend lists
 * its migrations in order (version 1, 2, …); at open, those above the
 * database's version run, each in its own transaction with the version bump,
 * so a crash leaves the database at one version or the next, never between.
 * Migrations only go forward. A database at a version this program does not
 * know was written by a newer one: refused at start, untouched.
 */
import { HistoryOpenError } from './history'

export interface Migration<Step> {
  version: number
  /** What it brings, for the log. */
  summary: string
  up: Step
}

/** The migrations to run from `current`, or the error for a database newer than `migrations` know. */
export function pendingMigrations<Step>(
  migrations: readonly Migration<Step>[],
  current: number,
  database: string,
): Migration<Step>[] {
  const latest = latestVersion(migrations)
  if (current > latest) {
    throw new HistoryOpenError(
      `the history database ${database} has schema version ${current}, newer than this program knows (${latest}): ` +
        'a newer Swarm Monitor wrote it; run that version, or point --database at another database',
      2,
    )
  }
  return migrations.filter((migration) => migration.version > current)
}

export function latestVersion(migrations: readonly Migration<unknown>[]): number {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) throw new Error(`migration ${i + 1} is numbered ${migration.version}`)
  })
  return migrations.length
}
