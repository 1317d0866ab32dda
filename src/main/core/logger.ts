/**
 * The operator's diagnostic log: JSON lines in `<data-dir>/logs/` (rotated by
 * size, a few files kept) and a readable line per entry on the console.
 * Secrets are redacted by path, so a token or a task's environment never
 * reaches either.
 */
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino, { type Logger } from 'pino'
import { createStream } from 'rotating-file-stream'
import { PRIVATE_MODE, tightenFile } from './private-file'

export type { Logger }

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Where the log goes and how much of it (`--data-dir`, `--log-level`). */
export interface LogSettings {
  dataDir: string
  logLevel: LogLevel
}

const REDACT = [
  'token',
  '*.token',
  'auth',
  '*.auth',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'env',
  '*.env',
  'payload.env',
  '*.payload.env',
  // An agent's session key lets its holder take the agent's id over (agents/remote-agents.ts).
  'sessionKey',
  '*.sessionKey',
]

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname'])

/** Turns one pino JSON line into `12:00:01 INFO  message key=value …`. */
export function formatLine(line: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toISOString().slice(11, 19)
  const level = (LEVEL_NAMES[entry.level as number] ?? String(entry.level)).padEnd(5)
  const fields = Object.entries(entry)
    .filter(([key]) => !SKIP.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
  return `${time} ${level} ${String(entry.msg ?? '')}${fields.length ? ' ' + fields.join(' ') : ''}\n`
}

function consoleStream(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      process.stderr.write(formatLine(chunk.toString().trimEnd()))
      callback()
    },
  })
}

export interface LoggerHandle {
  logger: Logger
  /** Flushes and closes the log file. */
  close(): Promise<void>
}

export interface LoggerOptions {
  /** Also print readable lines on stderr. Default true. */
  console?: boolean
  /** Size at which the file is rotated (rotating-file-stream's notation). Default `10M`. */
  rotateSize?: string
}

export function createLogger(config: LogSettings, options: LoggerOptions = {}): LoggerHandle {
  const dir = join(config.dataDir, 'logs')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // Private like the rest of the data dir: the current file is created 0600 and rotation renames it, so
  // rotated files keep that; files an older version left wider are narrowed, and so is the rotation list.
  for (const name of readdirSync(dir)) tightenFile(join(dir, name))
  const file = createStream('swarm-monitor.log', {
    path: dir,
    size: options.rotateSize ?? '10M',
    maxFiles: 5,
    mode: PRIVATE_MODE,
  })
  file.on('history', () => tightenFile(join(dir, 'swarm-monitor.log.txt')))
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: file }]
  if (options.console !== false) streams.push({ level: 'trace', stream: consoleStream() })
  const logger = pino(
    { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, base: undefined },
    pino.multistream(streams),
  )
  return {
    logger,
    close: () =>
      new Promise<void>((resolve) => {
        file.end(() => resolve())
      }),
  }
}
