/**
 * One node's leadership in a process of its own (run with tsx by the
 * leadership tests), so that a test can freeze it with SIGSTOP: prints
 * `leader TERM` or `follower TERM REASON` at each change of role.
 * Usage: tsx leader-contender.ts POSTGRES_URL NODE_ID FROZEN_AFTER_MS
 */
import pino from 'pino'
import { Leadership } from '../../src/main/core/cluster/leadership'

const [url, nodeId, frozenAfterMs] = process.argv.slice(2)
const leadership = new Leadership({
  url: url!,
  nodeId: nodeId!,
  logger: pino({ level: 'silent' }),
  checkMs: 100,
  frozenAfterMs: Number(frozenAfterMs),
})
leadership.onChange((change) =>
  process.stdout.write(`${change.role} ${change.term}${change.role === 'follower' ? ` ${change.reason}` : ''}\n`),
)
void leadership.start()
process.stdin.on('end', () => void leadership.stop().then(() => process.exit(0))).resume()
