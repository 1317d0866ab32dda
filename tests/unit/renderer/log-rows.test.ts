/**
 * The Logs view's rows: the filter read from its controls (for the live
 * lines and for the history), and stored lines merged with the live tail,
 * each line once.
 */
import { describe, expect, it } from 'vitest'
import type { HistoryLogLine } from '../../../src/shared/history-api'
import type { SwarmLogLine } from '../../../src/shared/log-tail'
import {
  filtersNothing,
  matchesLine,
  mergeRows,
  readLogFilter,
  type LogFilterInput,
} from '../../../src/renderer/src/log-rows'

const all = {
  text: '',
  levels: ['debug', 'info', 'warn', 'error'] as const,
  agentId: '',
  taskId: '',
  since: '',
  until: '',
}
const stored = (id: number, at: number, message: string): HistoryLogLine => ({
  id,
  taskId: 't1',
  agentId: 'a1',
  at,
  level: 'info',
  message,
})
const live = (seq: number, at: number, message: string): SwarmLogLine => ({
  seq,
  taskId: 't1',
  agentId: 'a1',
  at,
  level: 'info',
  message,
})

describe('readLogFilter', () => {
  it('asks the history for what the controls say, and nothing for what is unset', () => {
    expect(readLogFilter(all).history).toEqual({})
    expect(filtersNothing(readLogFilter(all))).toBe(true)
    const filter = readLogFilter({
      text: ' disk "quota ex"* ',
      levels: ['warn', 'error'],
      agentId: 'a1',
      taskId: ' t-42 ',
      since: '2026-12-01T08:00',
      until: '',
    })
    expect(filter.history).toEqual({
      q: 'disk "quota ex"*',
      task: 't-42',
      agent: 'a1',
      level: ['warn', 'error'],
      since: new Date('2026-12-01T08:00').getTime(),
    })
    expect(filter.problem).toBeNull()
  })

  it('says why a text is not searched, and neither filters by it nor sends it', () => {
    const filter = readLogFilter({ ...all, text: '*** --' })
    expect(filter.problem).toMatch(/^the search holds no word/)
    expect(filter.history.q).toBeUndefined()
    expect(matchesLine(live(1, 0, 'anything'), filter)).toBe(true)
  })
})

describe('matchesLine', () => {
  it('applies the words, levels, agent, task and time window as the server does', () => {
    const line = { ...live(1, 1000, 'Disk quota exceeded on /srv'), level: 'warn' as const }
    const check = (input: Partial<LogFilterInput>) => matchesLine(line, readLogFilter({ ...all, ...input }))
    expect(check({ text: 'quota disk' })).toBe(true)
    expect(check({ text: 'quot' })).toBe(false)
    expect(check({ text: 'srv exceeded' })).toBe(true)
    expect(check({ levels: ['error'] })).toBe(false)
    expect(check({ agentId: 'a2' })).toBe(false)
    expect(check({ taskId: 't1' })).toBe(true)
    expect(check({ since: '2030-01-01T00:00' })).toBe(false)
    expect(check({ until: '2030-01-01T00:00' })).toBe(true)
  })
})

describe('mergeRows', () => {
  it('puts stored lines, oldest first, above the live ones, and shows a line in both once', () => {
    const rows = mergeRows(
      [stored(12, 2000, 'b'), stored(11, 1500, 'a'), stored(10, 1000, 'z')],
      [live(7, 2000, 'b'), live(8, 2100, 'c')],
    )
    expect(rows.map((row) => [row.key, row.message])).toEqual([
      ['h10', 'z'],
      ['h11', 'a'],
      ['l7', 'b'],
      ['l8', 'c'],
    ])
    // The same words at another time are another line.
    expect(mergeRows([stored(3, 500, 'c')], [live(8, 2100, 'c')]).map((row) => row.key)).toEqual(['h3', 'l8'])
  })
})
