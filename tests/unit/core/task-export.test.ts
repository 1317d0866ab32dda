/**
 * The export's CSV fields: RFC 4180 quoting, and cells that a spreadsheet
 * would run as formulas made plain text.
 */
import { describe, expect, it } from 'vitest'
import { CSV_COLUMNS, csvField, csvRow } from '../../../src/main/core/server/task-export'
import { task } from '../../helpers/histories'

describe('csvField', () => {
  it('quotes fields holding a comma, a quote, CR or LF, doubling the quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField('cr\rhere')).toBe('"cr\rhere"')
    expect(csvField(null)).toBe('')
    expect(csvField(-12.5)).toBe('-12.5')
  })

  it('makes text starting with = + - @ tab or CR plain text with a leading quote', () => {
    expect(csvField('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)")
    expect(csvField('+1')).toBe("'+1")
    expect(csvField('-2+3')).toBe("'-2+3")
    expect(csvField('@cmd')).toBe("'@cmd")
    expect(csvField('\tx')).toBe("'\tx")
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"')
    expect(csvField('a=b')).toBe('a=b')
  })
})

describe('csvRow', () => {
  it('writes the columns in order, times in ISO 8601, JSON for result and payload, the agent name', () => {
    const row = csvRow(
      task({
        id: 't1',
        name: 'n',
        agentId: 'a1',
        status: 'succeeded',
        attempts: 1,
        createdAt: 0,
        startedAt: 1000,
        finishedAt: 3500,
        result: { ok: true },
        payload: { command: 'echo, hi' },
      }),
      (id) => (id === 'a1' ? 'Ada' : undefined),
    )
    const cells = Object.fromEntries(
      CSV_COLUMNS.map((column, i) => [
        column,
        row
          .trimEnd()
          .match(/("([^"]|"")*"|[^,]*)(,|$)/g)!
          [i]!.replace(/,$/, ''),
      ]),
    )
    expect(row.endsWith('\r\n')).toBe(true)
    expect(cells).toMatchObject({
      id: 't1',
      agentName: 'Ada',
      createdAt: '1970-01-01T00:00:00.000Z',
      durationMs: '2500',
      result: '"{""ok"":true}"',
      payload: '"{""command"":""echo, hi""}"',
    })
  })
})
