/**
 * `--database`: where the task history lives. `sqlite:PATH` (the default,
 * `sqlite:<data-dir>/swarm.db`) or a PostgreSQL URL
 * (`postgres://user:password@host:port/database`, `postgresql://` too).
 */
import { resolve } from 'node:path'

export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string }

export const DEFAULT_DATABASE_FILE = 'swarm.db'

/** The target `value` names, or an error message saying what is wrong with it. */
export function parseDatabaseUrl(
  value: string | null,
  dataDir: string,
): { ok: true; target: DatabaseTarget } | { ok: false; message: string } {
  if (value === null) return { ok: true, target: { kind: 'sqlite', file: resolve(dataDir, DEFAULT_DATABASE_FILE) } }
  if (value.startsWith('sqlite:')) {
    // `sqlite:///abs/file.db` (the URL habit) is the same file as `sqlite:/abs/file.db`.
    const path = value.startsWith('sqlite://') ? value.slice('sqlite://'.length) : value.slice('sqlite:'.length)
    if (path.trim() === '')
      return { ok: false, message: '--database sqlite: needs a file, e.g. sqlite:/var/lib/swarm-monitor/swarm.db' }
    return { ok: true, target: { kind: 'sqlite', file: resolve(path) } }
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      return { ok: false, message: '--database is not a valid URL; write postgres://user:password@host:5432/database' }
    }
    if (url.pathname.replace(/^\//, '') === '') {
      return { ok: false, message: '--database names no database; write postgres://user:password@host:5432/database' }
    }
    return { ok: true, target: { kind: 'postgres', url: value } }
  }
  return {
    ok: false,
    message: `--database must be sqlite:PATH or postgres://…, got "${value.replace(/\/\/[^@/]*@/, '//…@').slice(0, 80)}"`,
  }
}
