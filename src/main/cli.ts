/**
 * Headless entry: the core under plain Node, serving the dashboard to
 * browsers. `npm run serve -- --help` lists the flags. The one other
 * command, `swarm-monitor tokens …` (tokens-cli.ts), manages named tokens
 * without starting a server.
 */
import { resolve } from 'node:path'
import { ConfigError, createCore, loadConfig, StartError, tokenSource, type Core } from './core'
import { ADDON_ENV } from './electron-sqlite'
import { runTokensCommand } from './tokens-cli'

/** Where the built renderer sits next to this file (out/main → out/renderer). */
const RENDERER_DIR = resolve(__dirname, '../renderer')

export async function runHeadless(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'tokens') {
    const code = runTokensCommand(argv.slice(1), {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
    })
    process.exitCode = code
    return
  }
  let config
  try {
    config = loadConfig(argv, process.env, RENDERER_DIR)
  } catch (error) {
    if (error instanceof ConfigError && error.exitCode === 0) {
      process.stdout.write(error.message + '\n')
      process.exit(0)
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`swarm-monitor: ${error.message}\nTry "swarm-monitor --help".\n`)
      process.exit(error.exitCode)
    }
    throw error
  }

  let core: Core | undefined
  try {
    core = createCore(config, {
      sqliteBinding: process.env[ADDON_ENV] || undefined,
      // A cluster leader that lost its leadership stops; its supervisor starts it again, as a follower.
      deposed: () => void core?.stop().finally(() => process.exit(3)),
    })
  } catch (error) {
    // An invalid swarm file: refused before anything starts, like a bad flag; a history that cannot be opened.
    if (error instanceof ConfigError || error instanceof StartError) {
      process.stderr.write(`swarm-monitor: ${error.message}\n`)
      process.exit(error.exitCode)
    }
    throw error
  }
  try {
    await core.start()
  } catch (error) {
    const message = error instanceof StartError ? error.message : String((error as Error).stack ?? error)
    process.stderr.write(`swarm-monitor: ${message}\n`)
    await core.stop()
    // 2: a setting points at something unusable (an unreachable history database); 1: anything else.
    process.exit(error instanceof StartError ? error.exitCode : 1)
  }

  process.stdout.write(
    [
      `Swarm Monitor listening on ${core.url}`,
      `  operator: ${core.url}/#token=${core.tokens.operator}`,
      `  viewer:   ${core.url}/#token=${core.tokens.viewer}`,
      `  agents:   ${core.url} (namespace /agents), token ${tokenSource('agent', config.dataDir)}`,
      '',
    ].join('\n'),
  )

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    core.logger.info({ signal }, 'shutting down')
    core.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))
}

if (require.main === module) {
  runHeadless(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`swarm-monitor: ${String((error as Error)?.stack ?? error)}\n`)
    process.exit(1)
  })
}
