/**
 * What every scenario starts from: a server process, a client process, and
 * the settings of this run.
 */
import type { ClientsApi, ServerApi, ServerSetup } from './api'
import { startChild, type Child } from './child'

export interface RunSettings {
  quick: boolean
  /** Soak length. */
  minutes: number
}

export interface ServerHandle {
  child: Child<ServerApi>
  url: string
  pid: number
}

export const NO_DEMO: ServerSetup = {
  demo: false,
  demoAgents: 0,
  demoRate: 0,
  compression: false,
  injectorAgents: 20,
}

/** `startMs`: how long the core may take to start (it reads the whole history back). */
export async function startServer(setup: ServerSetup, startMs = 60_000): Promise<ServerHandle> {
  const child = startChild<ServerApi>('./server.ts', 'server', ['--expose-gc'])
  try {
    const ready = await child.caller.call('start', setup, startMs)
    return { child, url: ready.url, pid: ready.pid }
  } catch (error) {
    await child.stop()
    throw error
  }
}

export function startClients(): Child<ClientsApi> {
  return startChild<ClientsApi>('./clients.ts', 'clients', ['--max-old-space-size=4096'])
}

/** Runs `body` with a fresh server and client process, and ends both whatever happens. */
export async function withProcesses<T>(
  setup: ServerSetup,
  body: (server: ServerHandle, clients: Child<ClientsApi>) => Promise<T>,
): Promise<T> {
  const server = await startServer(setup)
  const clients = startClients()
  try {
    return await body(server, clients)
  } finally {
    await clients.stop('disconnect')
    await server.child.stop('stop')
  }
}
