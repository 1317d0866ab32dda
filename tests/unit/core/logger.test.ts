import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLogger, formatLine } from '../../../src/main/core/logger'

describe('logger', () => {
  it('writes JSON lines to <data-dir>/logs with secrets redacted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-log-'))
    const { logger, close } = createLogger({ dataDir, logLevel: 'info' }, { console: false })
    logger.info(
      {
        token: 'SECRET-1',
        auth: { token: 'SECRET-2' },
        payload: { env: { KEY: 'SECRET-3' } },
        registration: { id: 'a', sessionKey: 'SECRET-4' },
      },
      'hello',
    )
    logger.debug('below the level')
    await close()
    const file = join(dataDir, 'logs', 'swarm-monitor.log')
    const text = readFileSync(file, 'utf8')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ msg: 'hello', level: 30, token: '[redacted]' })
    expect(text).not.toMatch(/SECRET/)
  })

  it.skipIf(process.platform === 'win32')(
    'keeps every log file 0600: rotated ones, the rotation list, and one an older version left 0644',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'sm-log-'))
      mkdirSync(join(dataDir, 'logs'))
      writeFileSync(join(dataDir, 'logs', 'swarm-monitor.log'), '{"msg":"older"}\n')
      chmodSync(join(dataDir, 'logs', 'swarm-monitor.log'), 0o644)
      const { logger, close } = createLogger({ dataDir, logLevel: 'info' }, { console: false, rotateSize: '1K' })
      for (let i = 0; i < 40; i++) {
        logger.info({ i, filler: 'x'.repeat(100) }, 'a line')
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      await close()
      const names = readdirSync(join(dataDir, 'logs'))
      expect(names.length).toBeGreaterThanOrEqual(3)
      expect(names).toContain('swarm-monitor.log.txt')
      for (const name of names)
        expect((statSync(join(dataDir, 'logs', name)).mode & 0o777).toString(8), name).toBe('600')
    },
  )

  it('formats a line readably for the console', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 1, 12, 0, 1),
      msg: 'request refused',
      url: '/api',
    })
    expect(formatLine(line)).toBe('12:00:01 WARN  request refused url=/api\n')
  })
})
