/**
 * How the Electron entry turns its process arguments into the core's flags.
 * Electron-free, so it is unit-tested under plain Node.
 */

/**
 * The user's own arguments. Unpackaged, Electron runs as `electron <app-dir> …args`;
 * packaged, as `swarm-monitor …args`.
 */
export function userArgs(argv: readonly string[], isPackaged: boolean): string[] {
  return argv.slice(isPackaged ? 1 : 2)
}

/**
 * Adds `--data-dir <dir>` unless the user may have chosen one: by flag
 * (`--data-dir X` or `--data-dir=X`), by environment variable, or in a config
 * file. The added flag would override those, since flags take precedence.
 */
export function withDefaultDataDir(args: readonly string[], env: NodeJS.ProcessEnv, dataDir: string): string[] {
  if (chosen(args, env, ['--data-dir'], 'SWARM_MONITOR_DATA_DIR')) return [...args]
  return [...args, '--data-dir', dataDir]
}

/**
 * The window is the desktop user's way in, so unless a port was chosen the core
 * takes any free one (`--port 0`) rather than failing on a taken 7420.
 */
export function withFreePortDefault(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  if (chosen(args, env, ['--port', '-p'], 'SWARM_MONITOR_PORT')) return [...args]
  return [...args, '--port', '0']
}

function chosen(args: readonly string[], env: NodeJS.ProcessEnv, flags: readonly string[], envName: string): boolean {
  const given = (flag: string): boolean => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`))
  return flags.some(given) || given('--config') || Boolean(env[envName] || env.SWARM_MONITOR_CONFIG)
}
