/**
 * Binding the server to its address: the reasons it cannot, said plainly
 * (a StartError, exit 1), and the URL it serves once it does.
 */
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Logger } from '../logger'
import { StartError } from '../start-error'

/** Listens on `host:port` and returns the server's URL (`http(s)://host:port`, the port the system gave for 0). */
export async function listen(http: FastifyInstance, host: string, port: number, secure: boolean): Promise<string> {
  try {
    await http.listen({ host, port })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new StartError(`port ${port} is already in use on ${host}`)
    if (code === 'EADDRNOTAVAIL') throw new StartError(`cannot bind ${host}: no such local address`)
    if (code === 'EACCES') throw new StartError(`no permission to listen on ${host}:${port}`)
    throw error
  }
  const address = http.server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `${secure ? 'https' : 'http'}://${shown}:${address.port}`
}

/** Says so when tokens and data would cross the network in clear text. */
export function warnIfClearText(host: string, secure: boolean, logger: Logger): void {
  if (isLoopbackHost(host) || secure) return
  logger.warn(
    { host },
    'listening beyond this machine without TLS: tokens and data cross the network in clear text (use --tls-cert/--tls-key or a TLS proxy)',
  )
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}
