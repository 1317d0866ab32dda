/**
 * Shared by the security tests: real cores on port 0, their log files,
 * their Prometheus figures, and the swarm state to compare before and after
 * hostile input.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Agent, TaskSummary } from '../../src/shared/domain'
import type { Snapshot } from '../../src/shared/protocol'
import { getJson, TEST_TOKENS } from '../helpers/core'

/** Everything the core wrote to its log files so far (read after `stop()` to have it all). */
export function readLogs(dataDir: string): string {
  const dir = join(dataDir, 'logs')
  return readdirSync(dir)
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('')
}

/** One sample of `GET /metrics`, 0 when the series does not exist yet. */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` } })
  const text = await response.text()
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',')
  const series = wanted ? `${name}{${wanted}}` : name
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

export interface SwarmState {
  agents: Omit<Agent, 'lastHeartbeat' | 'resources'>[]
  tasks: TaskSummary[]
}

/** Agents and tasks from `GET /api/snapshot`, minus what changes by itself (heartbeats, resource figures). */
export async function swarmState(url: string): Promise<SwarmState> {
  const { status, body } = await getJson(`${url}/api/snapshot`, TEST_TOKENS.viewer)
  if (status !== 200) throw new Error(`GET /api/snapshot answered ${status}`)
  const snapshot = body as Snapshot
  const byId = <T extends { id: string }>(items: T[]) => [...items].sort((a, b) => a.id.localeCompare(b.id))
  return {
    agents: byId(snapshot.agents).map(({ lastHeartbeat: _h, resources: _r, ...rest }) => rest),
    tasks: byId(snapshot.tasks),
  }
}

/** Resolves when `/healthz` answers 200 within `timeoutMs`; the server is neither down nor hung. */
export async function healthy(url: string, timeoutMs = 5000): Promise<void> {
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })
  if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`)
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The CSP docs/security.md documents, directive by directive. */
export const EXPECTED_CSP: Record<string, string> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'font-src': "'self'",
  'connect-src': "'self' ws: wss:",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
}

/**
 * What is wrong with a response's security headers (docs/security.md's set),
 * as readable lines; empty when all is well. `get` reads a header by its
 * lower-case name; a header sent twice arrives joined by ", " and is wrong.
 */
export function securityHeaderProblems(get: (name: string) => string | null | undefined, tls = false): string[] {
  const problems: string[] = []
  const csp = get('content-security-policy') ?? ''
  const directives = Object.fromEntries(
    csp
      .split(';')
      .filter((d) => d.trim())
      .map((d) => {
        const [name, ...values] = d.trim().split(/\s+/)
        return [name, values.join(' ')]
      }),
  )
  if (JSON.stringify(directives) !== JSON.stringify(EXPECTED_CSP)) problems.push(`content-security-policy: ${csp}`)
  const exact: Record<string, string> = {
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  }
  for (const [name, value] of Object.entries(exact)) {
    if (get(name) !== value) problems.push(`${name}: ${get(name)}`)
  }
  const hsts = get('strict-transport-security')
  // HSTS over TLS only: over plain HTTP it would pin browsers to an HTTPS that is not there.
  if (tls ? !/^max-age=\d+/.test(hsts ?? '') : hsts != null) problems.push(`strict-transport-security: ${hsts}`)
  return problems
}
