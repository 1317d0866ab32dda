/**
 * The history at start: a retention that cannot be applied (the database
 * slow or busy, a query timed out) does not stop the server from starting;
 * it is logged and left to the next run, ten minutes later.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { Coordinator } from '../../../src/main/core/coordinator/coordinator'
import { createLogger } from '../../../src/main/core/logger'
import { restoreHistory } from '../../../src/main/core/pipeline/history-lifecycle'
import { HistoryUnavailableError, type TaskHistory } from '../../../src/main/core/storage/history'
import { createHistory } from '../../../src/main/core/storage/open-history'
import { status, task } from '../../helpers/histories'

const closing: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closing.splice(0)) await close()
})

it('starts with the stored tasks when the retention cannot be applied, saying so in the log', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sm-lifecycle-'))
  const file = join(dataDir, 'swarm.db')
  const retention = { maxTasks: 1, maxAgeMs: 3_600_000 }
  const first = createHistory({ kind: 'sqlite', file }, { retention, flushMs: 10 })
  await first.open()
  first.record(status(task({ id: 'waiting', createdAt: 1 })))
  await first.close()

  const history: TaskHistory = createHistory({ kind: 'sqlite', file }, { retention, flushMs: 10 })
  closing.push(() => history.close())
  history.prune = () => Promise.reject(new HistoryUnavailableError('the query took longer than 15 s and was stopped'))
  const { logger, close } = createLogger({ dataDir, logLevel: 'info' }, { console: false })
  closing.push(close)
  const coordinator = new Coordinator({ emit: () => {} })

  const ids = await restoreHistory(history, coordinator, logger)

  expect([...ids]).toEqual(['waiting'])
  expect(coordinator.getTask('waiting')?.status).toBe('queued')
  await close()
  const log = readFileSync(join(dataDir, 'logs', 'swarm-monitor.log'), 'utf8')
  expect(log).toContain('history retention not applied at start')
  expect(log).toContain('took longer than 15 s')
})
