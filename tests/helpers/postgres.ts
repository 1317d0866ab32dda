/**
 * A real PostgreSQL for tests, started by the tests themselves (no Docker):
 * `initdb` and `pg_ctl` from Debian's `postgresql` package into a temporary
 * dir, listening on a free loopback port, its unix socket in that dir.
 * PostgreSQL refuses to run as root, so when the tests do (here, in CI) the
 * server runs as the `postgres` system user the package creates, the dir
 * handed to it. One server per test file; each test makes its own database.
 * Passwords are checked on TCP (scram), as in a real deployment.
 */
import { spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Client } from 'pg'
import { freePort } from './ports'

export const PG_SUPERUSER = 'postgres'
export const PG_PASSWORD = 'test-postgres-password-0000'
const INSTALL_HINT =
  'install it: apt-get install -y postgresql (npm test does that itself, see scripts/system-deps.mjs)'

/** The dir of `initdb` and `pg_ctl`: `$PG_BIN`, else the newest /usr/lib/postgresql/N/bin, else PATH. */
export function findPostgresBin(): string {
  const candidates: string[] = []
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN)
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a))
    candidates.push(...versions.map((version) => join(root, version, 'bin')))
  }
  for (const dir of candidates) if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim()
  if (onPath) return onPath.replace(/\/initdb$/, '')
  throw new Error(
    `the PostgreSQL tests need PostgreSQL's server programs (initdb, pg_ctl), not found here: ${INSTALL_HINT}`,
  )
}

export interface Postgres {
  readonly port: number
  /** postgres://user:password@127.0.0.1:port/database */
  url(database: string, user?: string, password?: string): string
  /** A new empty database (owned by the superuser), and its URL. */
  createDatabase(): Promise<{ name: string; url: string }>
  /** Runs SQL in a database as the superuser; resolves with the rows. */
  sql(database: string, text: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  /** Stops the server (`fast`: connections are cut) — a database that goes away. */
  halt(): void
  /** Starts it again, on the same port, with the same data. */
  resume(): void
  /** Stops it for good and removes its files. */
  destroy(): void
}

export interface PostgresOptions {
  /** Off (the default for tests): faster, and a test never crashes the machine. On for honest bench figures. */
  fsync?: boolean
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const bin = findPostgresBin()
  const dir = mkdtempSync(join(tmpdir(), 'sm-pg-'))
  const data = join(dir, 'data')
  const passwordFile = join(dir, 'password')
  writeFileSync(passwordFile, PG_PASSWORD)
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
    if (ids.status !== 0) throw new Error(`running as root, and there is no postgres system user: ${INSTALL_HINT}`)
    for (const path of [dir, passwordFile]) chownSync(path, Number(ids.stdout), Number(gid.stdout))
  }
  const run = (program: string, args: string[]) => {
    const [command, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]]
      : [join(bin, program), args]
    const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 60_000, cwd: dir })
    if (result.status !== 0) {
      throw new Error(
        `${program} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
      )
    }
  }
  run('initdb', [
    ...['-D', data, '-U', PG_SUPERUSER, '--pwfile', passwordFile, '-E', 'UTF8', '--locale', 'C'],
    ...['--auth-local', 'trust', '--auth-host', 'scram-sha-256', '--no-sync', '--no-instructions'],
  ])
  const port = await freePort()
  const settings = [
    `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir}`,
    options.fsync === true ? '' : '-c fsync=off -c full_page_writes=off',
  ].join(' ')
  const start = () =>
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', settings, 'start'])
  const stop = (mode: 'fast' | 'immediate') => run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop'])
  start()
  let running = true
  // A test run that dies leaves no server behind.
  const onExit = () => {
    if (running)
      spawnSync(
        asRoot ? 'runuser' : join(bin, 'pg_ctl'),
        asRoot
          ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']
          : ['-D', data, '-m', 'immediate', 'stop'],
      )
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)

  const url = (database: string, user = PG_SUPERUSER, password = PG_PASSWORD) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`
  const sql = async (database: string, text: string, params: unknown[] = []) => {
    const client = new Client({ connectionString: url(database) })
    await client.connect()
    try {
      return (await client.query(text, params)).rows as Record<string, unknown>[]
    } finally {
      await client.end()
    }
  }
  return {
    port,
    url,
    sql,
    async createDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`
      await sql('postgres', `CREATE DATABASE ${name}`)
      return { name, url: url(name) }
    },
    halt() {
      if (!running) return
      stop('fast')
      running = false
    },
    resume() {
      if (running) return
      start()
      running = true
    },
    destroy() {
      if (running) stop('immediate')
      running = false
      process.removeListener('exit', onExit)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
