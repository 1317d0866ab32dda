import { describe, expect, it } from 'vitest'
import { userArgs, withDefaultDataDir, withFreePortDefault } from '../../../src/main/shell/argv'

describe('userArgs', () => {
  it('drops the binary and the app dir when unpackaged', () => {
    expect(userArgs(['/x/electron', '/x/app', '--port', '0'], false)).toEqual(['--port', '0'])
  })
  it('drops only the binary when packaged', () => {
    expect(userArgs(['/opt/Swarm Monitor/swarm-monitor', '--demo'], true)).toEqual(['--demo'])
  })
})

describe('withDefaultDataDir', () => {
  const dir = '/home/u/.config/Swarm Monitor'
  it('adds the data dir when none was chosen', () => {
    expect(withDefaultDataDir(['--port', '0'], {}, dir)).toEqual(['--port', '0', '--data-dir', dir])
  })
  it('keeps a data dir given by flag, in either spelling', () => {
    expect(withDefaultDataDir(['--data-dir', '/d'], {}, dir)).toEqual(['--data-dir', '/d'])
    expect(withDefaultDataDir(['--data-dir=/d'], {}, dir)).toEqual(['--data-dir=/d'])
  })
  it('keeps a data dir given by environment variable', () => {
    expect(withDefaultDataDir([], { SWARM_MONITOR_DATA_DIR: '/d' }, dir)).toEqual([])
  })
  it('leaves the choice to a config file when one is given', () => {
    expect(withDefaultDataDir(['--config', '/etc/sm.yaml'], {}, dir)).toEqual(['--config', '/etc/sm.yaml'])
    expect(withDefaultDataDir(['--config=/etc/sm.yaml'], {}, dir)).toEqual(['--config=/etc/sm.yaml'])
    expect(withDefaultDataDir([], { SWARM_MONITOR_CONFIG: '/etc/sm.yaml' }, dir)).toEqual([])
  })
  it('does not mutate its input', () => {
    const args = ['--demo']
    withDefaultDataDir(args, {}, dir)
    expect(args).toEqual(['--demo'])
  })
})

describe('withFreePortDefault', () => {
  it('asks for any free port when none was chosen', () => {
    expect(withFreePortDefault(['--no-demo'], {})).toEqual(['--no-demo', '--port', '0'])
  })
  it('keeps a port chosen by flag, environment or config file', () => {
    expect(withFreePortDefault(['--port', '7420'], {})).toEqual(['--port', '7420'])
    expect(withFreePortDefault(['-p', '7420'], {})).toEqual(['-p', '7420'])
    expect(withFreePortDefault(['--port=7420'], {})).toEqual(['--port=7420'])
    expect(withFreePortDefault([], { SWARM_MONITOR_PORT: '7420' })).toEqual([])
    expect(withFreePortDefault(['--config', 'c.yaml'], {})).toEqual(['--config', 'c.yaml'])
  })
})
