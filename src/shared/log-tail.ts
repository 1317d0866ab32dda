/**
 * The swarm-wide log tail: every `task:log` line, newest last, bounded. It is
 * trimmed in chunks so a full tail does not shift the array on every line.
 * Part of the reducer's state (`reducer.ts`); a limit of 0 keeps nothing.
 */
import type { LogLevel } from './events'

/** One `task:log` line as a viewer keeps it; the same object sits in the task's own tail. */
export interface SwarmLogLine {
  seq: number
  at: number
  level: LogLevel
  message: string
  /** Empty for lines that belong to no task. */
  taskId: string
  agentId: string | null
}

export class LogTail {
  readonly lines: SwarmLogLine[] = []
  /** Lines dropped from the front since the start: lets a view keep its place. */
  dropped = 0

  constructor(public limit: number) {}

  push(line: SwarmLogLine): void {
    if (this.limit <= 0) {
      this.dropped++
      return
    }
    this.lines.push(line)
    if (this.lines.length > this.limit + this.slack()) this.trim()
  }

  /** Drops the oldest lines beyond the limit now (after the limit was lowered). */
  trim(): void {
    const excess = this.lines.length - this.limit
    if (excess <= 0) return
    this.lines.splice(0, excess)
    this.dropped += excess
  }

  clear(): void {
    this.dropped += this.lines.length
    this.lines.length = 0
  }

  private slack(): number {
    return Math.max(1, Math.floor(this.limit / 10))
  }
}
