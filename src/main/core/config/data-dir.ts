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
