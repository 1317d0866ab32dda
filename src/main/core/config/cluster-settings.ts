/**
 * Cluster mode's two settings: `--redis` (redis:// or rediss://; with it the
 * server is one node of a cluster, docs/cluster.md) and `--node-id` (how the
 * other nodes, `/api/cluster` and `/healthz` name this one).
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

export const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/
export const NODE_ID_RULE = '1–64 characters of A–Z, a–z, 0–9, ".", "_" and "-"'

let chosen: string | null = null

/**
 * `<hostname>-<4 random hex>`, chosen once per process: two nodes on one
 * machine differ, and every read of the config in this process agrees.
 */
export function defaultNodeId(): string {
  if (chosen === null) {
    const host =
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 59) || 'node'
    chosen = `${host}-${randomBytes(2).toString('hex')}`
  }
  return chosen
}

/** An error message for a `--redis` the client could not use (never echoing a password), or null. */
export function redisUrlProblem(value: string): string | null {
  const example = 'write redis://[user:password@]host:6379[/db], or rediss:// for TLS'
  if (!/^rediss?:\/\//.test(value)) {
    return `--redis must be a redis:// or rediss:// URL, got "${value.replace(/\/\/[^@/]*@/, '//…@').slice(0, 80)}"; ${example}`
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `--redis is not a valid URL; ${example}`
  }
  if (url.hostname === '') return `--redis names no host; ${example}`
  const db = url.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d{1,5}$/.test(db))
    return `--redis: the database after the host is a number (0–15 usually); ${example}`
  return null
}

/** A `--redis` URL as messages show it: scheme, host and port, never the credentials. */
export function redisShown(value: string): string {
  try {
    const url = new URL(value)
    return `${url.protocol}//${url.host}`
  } catch {
    return 'the --redis URL'
  }
}
