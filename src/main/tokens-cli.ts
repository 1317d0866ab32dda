/**
 * `swarm-monitor tokens add|list|revoke`: named tokens in the data dir's
 * tokens.json (core/auth/named-tokens.ts), without starting a server. The
 * data dir is found as the server finds it (`--data-dir`, then
 * `SWARM_MONITOR_DATA_DIR`, then `--config`'s `dataDir`, then the default).
 * A new token goes alone to stdout (`TOKEN=$(swarm-monitor tokens add …)`),
 * everything said about it to stderr.
 */
import { Command, CommanderError, Option } from 'commander'
import {
  addNamedToken,
  ConfigError,
  listTokens,
  loadConfig,
  revokeNamedToken,
  TOKEN_RELOAD_MS,
  TokenCommandError,
} from './core'

export interface TokensIo {
  out(text: string): void
  err(text: string): void
  env: NodeJS.ProcessEnv
}

const ROLE_CHOICES = ['operator', 'viewer', 'agent'] as const

function dataDirOf(options: { dataDir?: string; config?: string }, env: NodeJS.ProcessEnv): string {
  const argv = [
    ...(options.dataDir ? ['--data-dir', options.dataDir] : []),
    ...(options.config ? ['--config', options.config] : []),
  ]
  return loadConfig(argv, env).dataDir
}

function program(io: TokensIo): Command {
  const located = (command: Command) =>
    command
      .addOption(new Option('--data-dir <dir>', "the server's data dir (where tokens.json is)"))
      .addOption(new Option('--config <file>', "the server's config file, for its dataDir"))
  // The server looks at the file every TOKEN_RELOAD_MS: a revocation lands within two of those.
  const seconds = (2 * TOKEN_RELOAD_MS) / 1000
  const root = new Command('swarm-monitor tokens')
    .description('Named access tokens: add one per person or program, list them, revoke one.')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError()
  located(
    root
      .command('add')
      .description('add a named token; it is printed once, on stdout, and kept only as a digest')
      .addOption(new Option('--role <role>', 'what it may do').choices(ROLE_CHOICES).makeOptionMandatory())
      .addOption(new Option('--name <name>', 'who holds it (1–64 letters, digits, . _ @ -)').makeOptionMandatory()),
  ).action((options: { role: (typeof ROLE_CHOICES)[number]; name: string; dataDir?: string; config?: string }) => {
    const { token, file } = addNamedToken(dataDirOf(options, io.env), options.name, options.role)
    io.err(`Added the ${options.role} token "${options.name}" to ${file}. It is shown this once; keep it safe:\n`)
    io.out(`${token}\n`)
    io.err(`A running server accepts it at once; "swarm-monitor tokens revoke ${options.name}" ends it.\n`)
  })
  located(
    root
      .command('list')
      .description('list the tokens a server on this data dir accepts (names and roles, never the tokens)')
      .option('--json', 'as JSON'),
  ).action((options: { json?: boolean; dataDir?: string; config?: string }) => {
    const tokens = listTokens(dataDirOf(options, io.env), io.env)
    if (options.json) {
      io.out(JSON.stringify(tokens, null, 2) + '\n')
      return
    }
    const rows = tokens.map((t) => [
      t.name,
      t.role,
      t.source === 'named' ? 'named' : t.source === 'environment' ? 'generated, fixed by the environment' : 'generated',
      t.createdAt === null ? '' : new Date(t.createdAt).toISOString().replace(/\.\d+Z$/, 'Z'),
    ])
    const table = [['NAME', 'ROLE', 'KIND', 'ADDED'], ...rows]
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
    for (const row of table)
      io.out(
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd() + '\n',
      )
  })
  located(
    root
      .command('revoke')
      .description('remove a named token: a running server refuses it, and closes its connections')
      .argument('<name>'),
  ).action((name: string, options: { dataDir?: string; config?: string }) => {
    const { role, file } = revokeNamedToken(dataDirOf(options, io.env), name)
    io.out(
      `Revoked the ${role} token "${name}" (${file}). A running server refuses it within ${seconds} s and closes the connections opened with it.\n`,
    )
  })
  return root
}

/** Runs one tokens command; resolves with the exit code (0 done, 1 refused by the file's state, 2 bad input). */
export function runTokensCommand(argv: readonly string[], io: TokensIo): number {
  const root = program(io)
  root.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err })
  for (const command of root.commands) command.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err })
  try {
    if (argv.length === 0) {
      io.out(root.helpInformation())
      return 0
    }
    root.parse([...argv], { from: 'user' })
    return 0
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    if (error instanceof TokenCommandError || error instanceof ConfigError) {
      io.err(`swarm-monitor tokens: ${error.message}\n`)
      return error.exitCode === 0 ? 0 : error.exitCode
    }
    io.err(`swarm-monitor tokens: ${(error as Error).message}\n`)
    return 1
  }
}
