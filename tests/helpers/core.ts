/**
 * Starts a real core for a test: port 0 on 127.0.0.1, a fresh data dir,
 * fixed tokens, console logging off. Connects real typed Socket.IO clients.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { io, type Socket } from 'socket.io-client'
import { createCore, loadConfig, type Core, type CoreOptions } from '../../src/main/core'
import type { DashboardClientToServer, DashboardServerToClient, Snapshot, Welcome } from '../../src/shared/protocol'

export const TEST_TOKENS = {
  operator: 'test-operator-token-000000000',
  viewer: 'test-viewer-token-0000000000',
  agent: 'test-agent-token-00000000000',
}

export const TOKEN_ENV = {
  SWARM_MONITOR_OPERATOR_TOKEN: TEST_TOKENS.operator,
  SWARM_MONITOR_VIEWER_TOKEN: TEST_TOKENS.viewer,
  SWARM_MONITOR_AGENT_TOKEN: TEST_TOKENS.agent,
}

/** `rendererDir`: where the dashboard's files are (the CLI passes out/renderer); none by default. */
export async function startCore(
  argv: string[] = [],
  options: CoreOptions = {},
  rendererDir: string | null = null,
): Promise<Core & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sm-test-'))
  // No local agents unless a test asks (`--local-agents N` later in argv wins): agent counts stay the demo's.
  const config = loadConfig(
    ['--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--local-agents', '0', ...argv],
    {},
    rendererDir,
  )
  const core = createCore(config, { console: false, env: TOKEN_ENV, ...options })
  await core.start()
  return Object.assign(core, { dataDir })
}

export type DashboardSocket = Socket<DashboardServerToClient, DashboardClientToServer>

export function dashboardClient(
  url: string,
  token: string | undefined,
  extra: Parameters<typeof io>[1] = {},
): DashboardSocket {
  return io(`${url}/dashboard`, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...extra,
  })
}

/** Connects and resolves with the welcome and snapshot the server sends first. */
export function connectDashboard(
  url: string,
  token: string,
): Promise<{ socket: DashboardSocket; welcome: Welcome; snapshot: Snapshot }> {
  const socket = dashboardClient(url, token)
  return new Promise((resolve, reject) => {
    let welcome: Welcome | null = null
    socket.once('welcome', (w) => (welcome = w))
    socket.once('snapshot', (snapshot) => resolve({ socket, welcome: welcome!, snapshot }))
    socket.once('connect_error', (error) => reject(error))
  })
}

/** Resolves with the error message of a refused connection. */
export function refusal(socket: DashboardSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, but should have been refused')))
    socket.once('connect_error', (error) => resolve(error.message))
  })
}

export async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: response.status, body: await response.json() }
}

export async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() }
}

export function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const check = () => {
      if (predicate()) return resolve()
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(check, 10)
    }
    check()
  })
}

/**
 * Polls `probe` every 100 ms until `ok` says yes, and resolves with that value; a probe that throws (a node
 * restarting, a server not up yet) counts as not yet. After `ms`, throws with the last value.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    let value: T | Error
    try {
      value = await probe()
    } catch (error) {
      value = error as Error
    }
    if (!(value instanceof Error) && ok(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
