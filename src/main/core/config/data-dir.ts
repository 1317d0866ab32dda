import { statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** The platform's per-user data folder: XDG on Linux, Application Support on macOS, %APPDATA% on Windows. */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'swarm-monitor')
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'swarm-monitor')
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'swarm-monitor')
}

/**
 * A warning when group or others may enter or read the data dir, or null.
 * Its files are private (0600) whatever the folder's mode; the folder's mode
 * still lets others list them and see the logs' and history's sizes, and is
 * the user's to set, so it is reported, not changed.
 */
export function dataDirExposure(dir: string, platform: NodeJS.Platform = process.platform): string | null {
  if (platform === 'win32') return null
  const mode = statSync(dir).mode & 0o777
  if ((mode & 0o077) === 0) return null
  return `data dir ${dir} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}): run chmod 700 ${shellQuote(dir)}`
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`
}
