import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/main/core/config/config'
import { defaultDataDir } from '../../../src/main/core/config/data-dir'
import { parseDatabaseUrl } from '../../../src/main/core/config/database-url'

const env = {}

describe('loadConfig', () => {
  it('has safe defaults: loopback, port 7420, demo on', () => {
    const config = loadConfig([], env)
    expect(config).toMatchObject({ host: '127.0.0.1', port: 7420, demo: true, logLevel: 'info', allowOrigin: [] })
  })

  it('reads flags, with repeatable --allow-origin', () => {
    const config = loadConfig(
      ['--port', '0', '--no-demo', '--allow-origin', 'https://a.example', '--allow-origin', 'https://b.example'],
      env,
    )
    expect(config).toMatchObject({ port: 0, demo: false, allowOrigin: ['https://a.example', 'https://b.example'] })
  })

  it('takes agent liveness and alert thresholds from flags, the environment and the file', () => {
    expect(loadConfig([], env)).toMatchObject({
      heartbeatTimeout: 15,
      alertErrorWarning: 0.25,
      alertErrorCritical: 0.5,
      alertBacklogGrowth: 10,
      alertStuckAfter: 10,
    })
    expect(loadConfig(['--heartbeat-timeout', '30', '--alert-stuck-after', '90'], env)).toMatchObject({
      heartbeatTimeout: 30,
      alertStuckAfter: 90,
    })
    expect(loadConfig([], { SWARM_MONITOR_ALERT_BACKLOG_GROWTH: '50' }).alertBacklogGrowth).toBe(50)
    const file = join(mkdtempSync(join(tmpdir(), 'sm-config-')), 'alerts.json')
    writeFileSync(file, JSON.stringify({ alertErrorWarning: 0.1, alertErrorCritical: 0.2 }))
    expect(loadConfig(['--config', file], env)).toMatchObject({ alertErrorWarning: 0.1, alertErrorCritical: 0.2 })
  })

  it('takes the history database from --database, SWARM_MONITOR_DATABASE or the file; none means SQLite in the data dir', () => {
    expect(loadConfig([], env).database).toBeNull()
    expect(parseDatabaseUrl(null, '/srv/sm')).toEqual({
      ok: true,
      target: { kind: 'sqlite', file: '/srv/sm/swarm.db' },
    })
    expect(loadConfig(['--database', 'sqlite:/tmp/h.db'], env).database).toBe('sqlite:/tmp/h.db')
    const url = 'postgres://swarm:secret@db.example:5432/swarm'
    expect(loadConfig([], { SWARM_MONITOR_DATABASE: url }).database).toBe(url)
    const file = join(mkdtempSync(join(tmpdir(), 'sm-config-')), 'db.json')
    writeFileSync(file, JSON.stringify({ database: 'postgresql://h/swarm' }))
    expect(loadConfig(['--config', file], env).database).toBe('postgresql://h/swarm')
    expect(parseDatabaseUrl('sqlite:///var/h.db', '/x')).toEqual({
      ok: true,
      target: { kind: 'sqlite', file: '/var/h.db' },
    })
    expect(parseDatabaseUrl(url, '/x')).toEqual({ ok: true, target: { kind: 'postgres', url } })
  })

  it('refuses a --database it cannot use, naming the forms it takes and never echoing a password', () => {
    const refused = (value: string) => {
      try {
        loadConfig(['--database', value], env)
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        expect((error as ConfigError).exitCode).toBe(2)
        return (error as Error).message
      }
      throw new Error(`--database ${value} was taken`)
    }
    expect(refused('mysql://root:hunter2@h/db')).toMatch(/--database must be sqlite:PATH or postgres:\/\/…/)
    expect(refused('mysql://root:hunter2@h/db')).not.toContain('hunter2')
    expect(refused('sqlite:')).toContain('sqlite: needs a file')
    expect(refused('postgres://u:hunter2@h:5432')).toContain('names no database')
    expect(refused('postgres://u:hunter2@h:5432')).not.toContain('hunter2')
  })

  it('runs a single node unless --redis (flag, SWARM_MONITOR_REDIS or the file) names the Redis a cluster shares', () => {
    const pg = 'postgres://swarm:secret@db:5432/swarm'
    expect(loadConfig([], env).redis).toBeNull()
    expect(loadConfig(['--redis', 'redis://r:6379', '--database', pg], env).redis).toBe('redis://r:6379')
    expect(loadConfig([], { SWARM_MONITOR_REDIS: 'rediss://:pw@r:6380/2', SWARM_MONITOR_DATABASE: pg }).redis).toBe(
      'rediss://:pw@r:6380/2',
    )
    const file = join(mkdtempSync(join(tmpdir(), 'sm-config-')), 'cluster.yaml')
    writeFileSync(file, `redis: redis://r\ndatabase: ${pg}\nnodeId: from-file\n`)
    expect(loadConfig(['--config', file], env)).toMatchObject({ redis: 'redis://r', nodeId: 'from-file' })
  })

  it('refuses --redis without a PostgreSQL --database, saying what to add', () => {
    for (const database of [[], ['--database', 'sqlite:/tmp/h.db']]) {
      const refused = () => loadConfig(['--redis', 'redis://r:6379', ...database], env)
      expect(refused).toThrow(ConfigError)
      expect(refused).toThrow(
        'cluster mode (--redis) needs PostgreSQL for the history and the leader lock: add --database postgres://',
      )
    }
  })

  it('refuses a --redis that is not a redis:// or rediss:// URL, never echoing a password', () => {
    const refused = (value: string) => {
      try {
        loadConfig(['--redis', value, '--database', 'postgres://h/db'], env)
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        expect((error as ConfigError).exitCode).toBe(2)
        return (error as Error).message
      }
      throw new Error(`--redis ${value} was taken`)
    }
    expect(refused('http://u:hunter2@r:6379')).toContain('--redis must be a redis:// or rediss:// URL')
    expect(refused('http://u:hunter2@r:6379')).not.toContain('hunter2')
    expect(refused('redis://')).toContain('--redis')
    expect(refused('redis://u:hunter2@r/x')).toContain('the database after the host is a number')
    expect(refused('redis://u:hunter2@r/x')).not.toContain('hunter2')
  })

  it('names the node <hostname>-<4 hex> unless --node-id says otherwise, and checks the name', () => {
    const generated = loadConfig([], env).nodeId
    expect(generated).toMatch(/^[A-Za-z0-9._-]+-[0-9a-f]{4}$/)
    // Chosen once per process: every read of the configuration agrees.
    expect(loadConfig([], env).nodeId).toBe(generated)
    expect(loadConfig(['--node-id', 'eu-1.node_a'], env).nodeId).toBe('eu-1.node_a')
    expect(loadConfig([], { SWARM_MONITOR_NODE_ID: 'n2' }).nodeId).toBe('n2')
    expect(loadConfig(['--node-id', 'x'.repeat(64)], env).nodeId).toHaveLength(64)
    for (const bad of ['', 'x'.repeat(65), 'has space', 'slash/no', 'ünïcode']) {
      expect(() => loadConfig(['--node-id', bad], env), JSON.stringify(bad)).toThrow(
        'nodeId: --node-id takes 1–64 characters of A–Z, a–z, 0–9, ".", "_" and "-"',
      )
    }
  })

  it('advertises the listening URL unless --advertise-url gives another, which must be http(s)', () => {
    expect(loadConfig([], env).advertiseUrl).toBeNull()
    expect(loadConfig(['--advertise-url', 'https://node-1.internal:7420'], env).advertiseUrl).toBe(
      'https://node-1.internal:7420',
    )
    expect(loadConfig([], { SWARM_MONITOR_ADVERTISE_URL: 'http://10.0.0.5:7420' }).advertiseUrl).toBe(
      'http://10.0.0.5:7420',
    )
    for (const bad of ['node-1:7420', 'ftp://node-1', 'redis://x:6379', '']) {
      expect(() => loadConfig(['--advertise-url', bad], env), JSON.stringify(bad)).toThrow(/advertise-url/)
    }
  })

  it('keeps WebSocket compression off unless asked for', () => {
    expect(loadConfig([], env).wsCompression).toBe(false)
    expect(loadConfig(['--ws-compression'], env).wsCompression).toBe(true)
    expect(loadConfig([], { SWARM_MONITOR_WS_COMPRESSION: '1' }).wsCompression).toBe(true)
  })

  it('keeps shell tasks off remote agents unless --allow-remote-shell-agents (flag, environment or file)', () => {
    expect(loadConfig([], env)).toMatchObject({ allowRemoteShell: false, allowRemoteShellAgents: false })
    expect(loadConfig(['--allow-remote-shell-agents'], env)).toMatchObject({
      allowRemoteShell: false,
      allowRemoteShellAgents: true,
    })
    expect(loadConfig([], { SWARM_MONITOR_ALLOW_REMOTE_SHELL_AGENTS: '1' }).allowRemoteShellAgents).toBe(true)
    expect(loadConfig([], { SWARM_MONITOR_ALLOW_REMOTE_SHELL_AGENTS: 'no' }).allowRemoteShellAgents).toBe(false)
    // The other setting is about who may submit shell tasks: it does not let agents run them.
    expect(loadConfig(['--allow-remote-shell'], env).allowRemoteShellAgents).toBe(false)
    const file = join(mkdtempSync(join(tmpdir(), 'sm-config-')), 'shell.json')
    writeFileSync(file, JSON.stringify({ allowRemoteShellAgents: true }))
    expect(loadConfig(['--config', file], env).allowRemoteShellAgents).toBe(true)
    writeFileSync(file, JSON.stringify({ allowRemoteShellAgents: 'yes' }))
    expect(() => loadConfig(['--config', file], env)).toThrow(/allowRemoteShellAgents/)
  })

  it('takes environment variables, and flags win over them', () => {
    expect(loadConfig([], { SWARM_MONITOR_PORT: '9000', SWARM_MONITOR_NO_DEMO: '1' })).toMatchObject({
      port: 9000,
      demo: false,
    })
    expect(loadConfig(['--port', '9001'], { SWARM_MONITOR_PORT: '9000' }).port).toBe(9001)
  })

  it('reads a YAML config file below flags and environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-config-'))
    const file = join(dir, 'swarm-monitor.yaml')
    writeFileSync(file, 'port: 8100\ndemo: false\ndemoAgents: 3\nhost: 127.0.0.2\n')
    expect(loadConfig(['--config', file], env)).toMatchObject({ port: 8100, demo: false, demoAgents: 3 })
    expect(loadConfig(['--config', file, '--host', '127.0.0.9'], env).host).toBe('127.0.0.9')
    expect(loadConfig(['--config', file], { SWARM_MONITOR_DEMO_AGENTS: '7' }).demoAgents).toBe(7)
    // The negatable flag too: environment over file, flag over both.
    expect(loadConfig(['--config', file], { SWARM_MONITOR_DEMO: '1' }).demo).toBe(true)
    expect(loadConfig(['--config', file], { SWARM_MONITOR_NO_DEMO: 'no' }).demo).toBe(true)
    expect(loadConfig(['--config', file, '--demo'], {}).demo).toBe(true)
    expect(loadConfig(['--no-demo'], { SWARM_MONITOR_DEMO: '1' }).demo).toBe(false)
  })

  it.each([
    [['--port', 'eighty'], /--port must be a whole number/],
    [['--port', '70000'], /port/],
    [['--log-level', 'loud'], /log-level/],
    [['--allow-origin', 'not a url'], /allowOrigin/],
    [['--tls-cert', 'cert.pem'], /--tls-cert and --tls-key go together/],
    [['--alert-error-warning', '0.6'], /--alert-error-warning must be below --alert-error-critical/],
    [['--alert-error-critical', '1.5'], /alertErrorCritical/],
    [['--alert-backlog-growth', '2.5'], /--alert-backlog-growth must be a whole number/],
    [['--heartbeat-timeout', '2'], /heartbeatTimeout/],
    [['--bogus'], /unknown option '--bogus'/],
    [['extra'], /too many arguments|unexpected/i],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError)
    expect(() => loadConfig(argv, env)).toThrow(message)
  })

  it('names unknown and malformed settings in a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-config-'))
    const unknown = join(dir, 'a.json')
    writeFileSync(unknown, '{"prot": 1}')
    expect(() => loadConfig(['--config', unknown], env)).toThrow(`config file ${unknown}: unknown setting "prot"`)
    const broken = join(dir, 'b.json')
    writeFileSync(broken, '{"port": ')
    expect(() => loadConfig(['--config', broken], env)).toThrow(/is not valid JSON/)
    const wrongType = join(dir, 'c.yaml')
    writeFileSync(wrongType, 'port: "x"\n')
    expect(() => loadConfig(['--config', wrongType], env)).toThrow(/port: .*expected number/)
  })

  it('answers --help and --version with exit code 0 and the text', () => {
    try {
      loadConfig(['--help'], env)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).exitCode).toBe(0)
      for (const flag of [
        '--host',
        '--port',
        '--demo',
        '--no-demo',
        '--data-dir',
        '--tls-cert',
        '--tls-key',
        '--allow-origin',
        '--log-level',
      ]) {
        expect((error as Error).message).toContain(flag)
      }
    }
    expect(() => loadConfig(['--version'], env)).toThrow(/^\d+\.\d+\.\d+$/)
  })
})

describe('defaultDataDir', () => {
  it('follows each platform convention', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/x' }, 'linux')).toBe('/x/swarm-monitor')
    expect(defaultDataDir({ APPDATA: 'C:/Users/u/AppData/Roaming' }, 'win32')).toMatch(/Roaming.swarm-monitor$/)
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library.Application Support.swarm-monitor$/)
  })
})
