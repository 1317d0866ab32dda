import { createServer } from 'node:net'

/** A loopback TCP port that was free a moment ago (the kernel's pick), for a server a test starts itself. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no free loopback port')
  return address.port
}
