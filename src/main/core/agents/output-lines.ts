/**
 * A child process's output as log lines: split per stream, each line capped
 * in length, and a per-task budget so a chatty command cannot flood the
 * event pipeline or the history.
 */
import type { Readable } from 'node:stream'
import type { LogLevel } from '../../../shared/events'

/**
 * Calls `onLine` for every line of `stream` (without its `\n` or `\r\n`).
 * A line longer than `maxLength` is cut there and marked with `…`; the rest
 * of it is skipped. Returns `flush`, which hands over a last unterminated line.
 */
export function splitLines(stream: Readable, maxLength: number, onLine: (line: string) => void): () => void {
  let buffer = ''
  let skipping = false
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    let start = 0
    for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
      if (!skipping) emit(buffer + chunk.slice(start, end))
      buffer = ''
      skipping = false
      start = end + 1
    }
    if (skipping) return
    buffer += chunk.slice(start)
    if (buffer.length > maxLength) {
      onLine(buffer.slice(0, maxLength) + '…')
      buffer = ''
      skipping = true
    }
  })
  function emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    onLine(text.length > maxLength ? text.slice(0, maxLength) + '…' : text)
  }
  return () => {
    if (buffer !== '' && !skipping) emit(buffer)
    buffer = ''
  }
}

/**
 * Sends at most `max` lines per task. When more come, the last of the `max`
 * becomes a note saying how many were not kept, so the lines sent always fit
 * the same bound the history applies. The `max`-th line is therefore held
 * back until either the output ends (it is sent) or another line arrives (it
 * is dropped and counted).
 */
export class LogBudget {
  private sent = 0
  private held: { level: LogLevel; text: string } | null = null
  private dropped = 0

  constructor(
    private readonly max: number,
    private readonly send: (level: LogLevel, text: string) => void,
  ) {}

  push(level: LogLevel, text: string): void {
    if (this.sent < this.max - 1) {
      this.sent++
      this.send(level, text)
    } else if (this.held === null && this.dropped === 0) {
      this.held = { level, text }
    } else {
      this.dropped += this.held ? 2 : 1
      this.held = null
    }
  }

  /** Sends what was held back, or the note about the lines not kept. */
  end(): void {
    if (this.held) this.send(this.held.level, this.held.text)
    else if (this.dropped > 0) this.send('warn', `… ${this.dropped} more lines not kept`)
    this.held = null
    this.dropped = 0
  }
}
