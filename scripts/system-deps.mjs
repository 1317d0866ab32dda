#!/usr/bin/env node
/**
 * `npm test`'s first step: the system packages the tests need (Debian/Ubuntu
 * names). Prints nothing when they are all there. When some are missing it
 * installs them with apt-get, as root or through passwordless sudo, saying so
 * in one line; where it cannot (no apt-get, not root, no `sudo -n`) it fails
 * at once with the one command to run, instead of a test failing minutes in.
 *
 * Plain Node, no dependencies: it runs before anything else is checked.
 * A new need is one more row in PACKAGES.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * One row per package. `has` says how the tests find what it provides:
 * `program` lists where to look, first found wins (`$VAR` or `$VAR/file`: the
 * path in that environment variable, when set; an absolute path; or a name on PATH);
 * `python` is a module some `python3` the tests try can import.
 */
export const PACKAGES = [
  { name: 'chromium', for: 'the browser tests', has: { program: ['$CHROMIUM_PATH', '/usr/bin/chromium'] } },
  { name: 'nginx-light', for: 'the reverse-proxy tests', has: { program: ['$NGINX', '/usr/sbin/nginx', 'nginx'] } },
  {
    name: 'haproxy',
    for: 'the cluster proxy tests (tests/helpers/cluster-proxy.ts runs deploy/cluster/haproxy.cfg)',
    has: { program: ['$HAPROXY', '/usr/sbin/haproxy', 'haproxy'] },
  },
  { name: 'openssl', for: 'the TLS tests', has: { program: ['openssl'] } },
  { name: 'ffmpeg', for: 'the demo recording test', has: { program: ['$FFMPEG_PATH', 'ffmpeg'] } },
  { name: 'python3-socketio', for: 'the Python example agent', has: { python: 'socketio' } },
  { name: 'python3-websocket', for: 'the Python example agent', has: { python: 'websocket' } },
  { name: 'python3-requests', for: 'the Python example agent', has: { python: 'requests' } },
  {
    name: 'redis-server',
    for: 'the cluster tests (tests/helpers/redis.ts starts a server in a temp dir)',
    has: { program: ['$REDIS_SERVER', '/usr/bin/redis-server', 'redis-server'] },
  },
  {
    name: 'postgresql',
    for: 'the PostgreSQL history tests (tests/helpers/postgres.ts starts a server in a temp dir)',
    // Debian and Ubuntu keep the server's programs per major version, off PATH.
    has: {
      program: [
        '$PG_BIN/initdb',
        ...[18, 17, 16, 15, 14, 13].map((v) => `/usr/lib/postgresql/${v}/bin/initdb`),
        'initdb',
      ],
    },
  },
]

/** The interpreters the Python agent's tests try, in their order (tests/helpers/agents.ts `findPython`). */
const PYTHONS = ['$SWARM_MONITOR_PYTHON', 'python3', '/usr/bin/python3']

/** `$VAR` and `$VAR/rest` stand for that variable's value (and a path under it), or nothing when it is unset. */
const expand = (candidates, env) =>
  candidates.flatMap((candidate) => {
    if (!candidate.startsWith('$')) return [candidate]
    const [name, ...rest] = candidate.slice(1).split('/')
    return env[name] ? [[env[name], ...rest].join('/')] : []
  })

function executable(file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The path of a program, or null. */
export function findProgram(candidate, env = process.env) {
  if (isAbsolute(candidate) || candidate.includes('/')) return executable(candidate) ? candidate : null
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (executable(join(dir, candidate))) return join(dir, candidate)
  }
  return null
}

/** Prints which of the modules in argv are installed, without running their code (quicker than importing). */
const FIND_MODULES =
  'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m)))'

/**
 * The real probe: `has` → whether it is there. The Python modules of `packages`
 * are looked up together, one interpreter run each; asked again while any is
 * missing (as after an install).
 */
export function systemProbe(env = process.env, packages = PACKAGES) {
  const modules = packages.flatMap((row) => (row.has.python ? [row.has.python] : []))
  let found = new Set()
  const pythonFound = () => {
    if (modules.every((module) => found.has(module))) return found
    found = new Set()
    for (const python of expand(PYTHONS, env)) {
      const result = spawnSync(python, ['-c', FIND_MODULES, ...modules], { encoding: 'utf8', timeout: 20_000 })
      if (result.status === 0) for (const module of result.stdout.split(/\s+/).filter(Boolean)) found.add(module)
      if (modules.every((module) => found.has(module))) break
    }
    return found
  }
  return (has) => {
    if (has.program) return expand(has.program, env).some((candidate) => findProgram(candidate, env) !== null)
    if (has.python) return pythonFound().has(has.python)
    throw new Error(`system-deps: unknown check ${JSON.stringify(has)}`)
  }
}

/** Whether this machine can install: apt-get present, root, passwordless sudo (asked only when needed). */
export function systemAbilities(env = process.env) {
  const apt = findProgram('apt-get', env) !== null
  const root = process.getuid?.() === 0
  const sudo =
    !root && findProgram('sudo', env) !== null && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0
  return { apt, root, sudo }
}

const list = (missing) => missing.map((row) => `${row.name} (${row.for})`).join(', ')

/**
 * The decision, from what is missing and what this machine allows:
 * `{ action: 'none' }`, `{ action: 'install', commands, message }` (run the
 * commands in order) or `{ action: 'fail', message }`.
 */
export function plan(missing, { apt, root, sudo }) {
  if (missing.length === 0) return { action: 'none' }
  const names = [...new Set(missing.map((row) => row.name))]
  if (apt && (root || sudo)) {
    // sudo resets the environment: DEBIAN_FRONTEND goes through `env`.
    const prefix = root ? ['env'] : ['sudo', '-n', 'env']
    const aptGet = [...prefix, 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-qq', '-o', 'DPkg::Lock::Timeout=120']
    return {
      action: 'install',
      commands: [
        [...aptGet, 'update'],
        [...aptGet, 'install', '-y', '--no-install-recommends', ...names],
      ],
      message: `system-deps: installing ${list(missing)} with ${root ? '' : 'sudo '}apt-get`,
    }
  }
  const command = `sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`
  if (!apt) {
    return {
      action: 'fail',
      message: `system-deps: the tests need ${list(missing)}; there is no apt-get here to install them. On Debian/Ubuntu: ${command} (elsewhere, the same programs from your system's packages)`,
    }
  }
  return {
    action: 'fail',
    message: `system-deps: the tests need ${list(missing)}, and this user cannot install them (not root, no passwordless sudo). Run: ${command}`,
  }
}

/** Runs a command quietly; on failure, its exit status and the end of what it said. */
function run(command) {
  const result = spawnSync(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (result.status === 0) return { ok: true }
  const said = (result.error?.message ?? result.stderr ?? '').trim().split('\n').slice(-5).join(' | ')
  return { ok: false, detail: `exit ${result.status ?? result.signal}: ${said}` }
}

/** The whole step; resolves with the exit code. Every part can be replaced (tests pass fakes). */
export function main({
  packages = PACKAGES,
  probe = systemProbe(),
  abilities = systemAbilities,
  exec = run,
  say = (line) => console.log(line),
  complain = (line) => console.error(line),
} = {}) {
  const missing = packages.filter((row) => !probe(row.has))
  if (missing.length === 0) return 0
  const decision = plan(missing, abilities())
  if (decision.action === 'fail') {
    complain(decision.message)
    return 1
  }
  say(decision.message)
  for (const command of decision.commands) {
    const result = exec(command)
    if (!result.ok) {
      complain(`system-deps: ${command.join(' ')} failed (${result.detail})`)
      return 1
    }
  }
  const still = missing.filter((row) => !probe(row.has))
  if (still.length > 0) {
    complain(`system-deps: still missing after apt-get install: ${list(still)}`)
    return 1
  }
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(main())
