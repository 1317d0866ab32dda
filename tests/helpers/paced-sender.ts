/**
 * A child process for tests (run with `node --import tsx`): a raw agent on
 * `/agents` that registers, then sends `log` lines at an exact pace, each
 * with an acknowledgement, and prints the answers' codes as one JSON line.
 * It runs in its own process so that a test blocking the server's event loop
 * does not also stop the sender: its messages keep being sent on time.
 *
 *   paced-sender.ts URL TOKEN ID PER_SECOND SECONDS
 */
import { io, type Socket } from 'socket.io-client'
import type { AgentsClientToServer, AgentsServerToClient } from '../../src/shared/protocol'
import type { Result } from '../../src/shared/result'

const [url, token, id, perSecondArg, secondsArg] = process.argv.slice(2)
const perSecond = Number(perSecondArg)
const total = Math.round(perSecond * Number(secondsArg))
if (!url || !token || !id || !(perSecond > 0) || !(total > 0)) {
  console.error('usage: paced-sender.ts URL TOKEN ID PER_SECOND SECONDS')
  process.exit(2)
}

const socket: Socket<AgentsServerToClient, AgentsClientToServer> = io(`${url}/agents`, {
  auth: { token },
  transports: ['websocket'],
  reconnection: false,
  forceNew: true,
})
const codes: Record<string, number> = {}
let answered = 0
let disconnected: string | null = null

const report = () => {
  console.log(JSON.stringify({ codes, answered, sent: total, disconnected }))
  socket.close()
  process.exit(0)
}

socket.on('disconnect', (reason) => {
  disconnected = reason
  report()
})
socket.on('connect_error', (error) => {
  console.error(`cannot connect: ${error.message}`)
  process.exit(1)
})
socket.once('connect', async () => {
  const answer = await socket.emitWithAck('agent:register', { id, name: id, capabilities: [] })
  if (!answer.ok) {
    console.error(`register refused: ${answer.error.message}`)
    process.exit(1)
  }
  console.log('registered')
  const started = performance.now()
  for (let i = 0; i < total; i++) {
    // Message i leaves at its own time, never early: exactly `perSecond` a second, no bursts.
    const wait = started + (i * 1000) / perSecond - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    socket.emit('log', { level: 'info', message: `paced line ${i}` }, (result: Result<null>) => {
      const code = result.ok ? 'ok' : result.error.code
      codes[code] = (codes[code] ?? 0) + 1
      if (++answered === total) report()
    })
  }
})
setTimeout(() => {
  console.error(`gave up: ${answered} of ${total} answered`)
  report()
}, 60_000).unref()
