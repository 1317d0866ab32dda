/**
 * What the data dir holds is readable by its owner only, whatever the
 * folder's own mode: the history (task payloads, env values included) and
 * its WAL files, the logs, the tokens, the lock. A folder others can enter
 * is reported with the command that closes it.
 */
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createCore, loadConfig, type Core } from '../../src/main/core'
import { postJson, TEST_TOKENS, TOKEN_ENV } from '../helpers/core'
import { readLogs } from './support'

async function start(dataDir: string): Promise<Core> {
  const config = loadConfig(['--port', '0', '--data-dir', dataDir, '--no-demo', '--local-agents', '0'], {})
  const core = createCore(config, { console: false, env: TOKEN_ENV })
  await core.start()
  return core
}

const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8)

describe.skipIf(process.platform === 'win32')('file modes in the data dir', () => {
  it('a data dir created 0755 beforehand: history, WAL, logs, tokens and lock are 0600, and a warning says how to close the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-modes-'))
    chmodSync(dir, 0o755)
    const core = await start(dir)
    try {
      const task = { name: 'secret', kind: 'compute', capabilities: ['nowhere'], payload: { env: { KEY: 'value' } } }
      expect((await postJson(`${core.url}/api/tasks`, task, TEST_TOKENS.operator)).status).toBe(201)
      for (const name of ['swarm.db', 'swarm.db-wal', 'swarm.db-shm', 'tokens.json', 'swarm-monitor.lock']) {
        expect(modeOf(join(dir, name)), name).toBe('600')
      }
      expect(modeOf(join(dir, 'logs', 'swarm-monitor.log'))).toBe('600')
      expect(modeOf(join(dir, 'logs'))).toBe('700')
    } finally {
      await core.stop()
    }
    expect(readLogs(dir)).toContain(`data dir ${dir} is accessible to other users (mode 0755): run chmod 700 ${dir}`)
    // The folder's mode is the user's to set: reported, not changed.
    expect(modeOf(dir)).toBe('755')
  })

  it('narrows a history, WAL files and a log an older version left 0644, keeping their data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-modes-'))
    const first = await start(dir)
    expect(
      (
        await postJson(
          `${first.url}/api/tasks`,
          { name: 'kept', kind: 'compute', capabilities: ['nowhere'] },
          TEST_TOKENS.operator,
        )
      ).status,
    ).toBe(201)
    await first.stop()
    // As a crash leaves them: WAL files beside the database (empty ones are valid), all readable by others.
    writeFileSync(join(dir, 'swarm.db-wal'), '')
    writeFileSync(join(dir, 'swarm.db-shm'), '')
    for (const name of ['swarm.db', 'swarm.db-wal', 'swarm.db-shm', join('logs', 'swarm-monitor.log')]) {
      chmodSync(join(dir, name), 0o644)
    }

    const second = await start(dir)
    try {
      for (const name of ['swarm.db', 'swarm.db-wal', 'swarm.db-shm', join('logs', 'swarm-monitor.log')]) {
        expect(modeOf(join(dir, name)), name).toBe('600')
      }
      expect(second.coordinator.listTasks().tasks.map((task) => task.name)).toEqual(['kept'])
    } finally {
      await second.stop()
    }
    expect(readLogs(dir)).not.toContain('is accessible to other users')
  })
})
