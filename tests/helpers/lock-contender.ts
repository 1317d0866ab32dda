/**
 * One contender in a data dir lock race (run with tsx by the lock tests):
 * prints `ready`, waits for the go file to appear, tries once, prints `won`
 * or `refused: …`. A winner holds the lock until its stdin closes, so that
 * every other contender meets it.
 * Usage: tsx lock-contender.ts DATA_DIR GO_FILE
 */
import { existsSync } from 'node:fs'
import { lockDataDir } from '../../src/main/core/config/data-dir-lock'

const [dataDir, goFile] = process.argv.slice(2)
process.stdout.write('ready\n')
while (!existsSync(goFile!)) {
  // Spin rather than sleep: every contender sees the file within a moment of the others.
}
try {
  const lock = lockDataDir(dataDir!)
  process.stdout.write('won\n')
  process.stdin.on('end', () => lock.release()).resume()
} catch (error) {
  process.stdout.write(`refused: ${(error as Error).message}\n`)
  process.exit(0)
}
