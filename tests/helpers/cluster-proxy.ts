/**
 * The shipped cluster proxy configurations, deploy/cluster/nginx.conf and
 * deploy/cluster/haproxy.cfg, pointed at this run's nodes, ports and
 * certificate — substituted, nothing else (the substitution fails naming the
 * file when it changes shape) — and a real HAProxy started in a temporary dir
 * (nginx: tests/helpers/nginx.ts). For tests and `npm run cluster:demo`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { listening } from './nginx'

export const CLUSTER_NGINX_CONF = resolve(__dirname, '../../deploy/cluster/nginx.conf')
export const CLUSTER_HAPROXY_CFG = resolve(__dirname, '../../deploy/cluster/haproxy.cfg')
/** The nodes' ports as the shipped files name them, in order. */
const SHIPPED_NODE_PORTS = [7421, 7422, 7423]

/** Replaces exactly one occurrence, or fails naming what the shipped file no longer holds. */
function replaceOnce(file: string, text: string, search: string | RegExp, replacement: string): string {
  const count =
    typeof search === 'string' ? text.split(search).length - 1 : (text.match(new RegExp(search, 'g')) ?? []).length
  if (count !== 1) throw new Error(`${file} changed: expected one ${String(search)}, found ${count}`)
  return text.replace(search, replacement)
}

function withNodes(file: string, text: string, nodePorts: readonly number[]): string {
  if (nodePorts.length !== SHIPPED_NODE_PORTS.length)
    throw new Error(`${file} names ${SHIPPED_NODE_PORTS.length} nodes`)
  let result = text
  SHIPPED_NODE_PORTS.forEach((shipped, i) => {
    const pattern = new RegExp(`127\\.0\\.0\\.1:${shipped}\\b`, 'g')
    if ((result.match(pattern) ?? []).length === 0) throw new Error(`${file} changed: no 127.0.0.1:${shipped}`)
    result = result.replace(pattern, `127.0.0.1:${nodePorts[i]}`)
  })
  return result
}

/** The hash line that makes the nginx upstream sticky. */
export const NGINX_STICKY = /\n *hash \$remote_addr consistent;/

/**
 * deploy/cluster/nginx.conf on this run's ports and certificate. `sticky: false` drops the `hash`
 * line (nginx then takes the nodes in turn): what the file would do without it.
 */
export function clusterNginxSite(
  nodePorts: readonly number[],
  ports: { tls: number; redirect: number },
  cert: { certFile: string; keyFile: string },
  { sticky = true } = {},
): string {
  const file = CLUSTER_NGINX_CONF
  let site = withNodes(file, readFileSync(file, 'utf8'), nodePorts)
  site = replaceOnce(file, site, /listen 80;/, `listen 127.0.0.1:${ports.redirect};`)
  site = replaceOnce(file, site, /listen 443 ssl;/, `listen 127.0.0.1:${ports.tls} ssl;`)
  site = replaceOnce(file, site, /ssl_certificate +\S+;/, `ssl_certificate ${cert.certFile};`)
  site = replaceOnce(file, site, /ssl_certificate_key +\S+;/, `ssl_certificate_key ${cert.keyFile};`)
  if (!sticky) site = replaceOnce(file, site, NGINX_STICKY, '')
  return site
}

/**
 * For the demo on one machine: the shipped file's `map`, `upstream` and `location /` in one
 * plain-HTTP server on 127.0.0.1 (no certificate to make; nothing leaves the machine).
 */
export function clusterNginxDemoSite(nodePorts: readonly number[], port: number): string {
  const file = CLUSTER_NGINX_CONF
  const site = withNodes(file, readFileSync(file, 'utf8'), nodePorts)
  const map = /\nmap \$http_upgrade[\s\S]*?\n\}\n/.exec(site)?.[0]
  const upstream = /\nupstream swarm_cluster \{[\s\S]*?\n\}\n/.exec(site)?.[0]
  const location = /\n {4}location \/ \{\n[\s\S]*?\n {4}\}\n/.exec(site)?.[0]
  if (!map || !upstream || !location) throw new Error(`${file} changed: no map, upstream or location / block`)
  return `${map}${upstream}
server {
    listen 127.0.0.1:${port};
    client_max_body_size 64k;
${location}}
`
}

const HAPROXY_HINT = 'install it: apt-get install -y haproxy (npm test does that itself, see scripts/system-deps.mjs)'

/** The haproxy binary, or an error that names the package to install. */
export function findHaproxy(): string {
  for (const candidate of [process.env.HAPROXY, '/usr/sbin/haproxy', 'haproxy'].filter(Boolean) as string[]) {
    if (spawnSync(candidate, ['-v'], { encoding: 'utf8' }).status === 0) return candidate
  }
  throw new Error(`the cluster proxy tests need haproxy, which is not installed here: ${HAPROXY_HINT}`)
}

export interface HaproxyPorts {
  /** The viewers' TLS frontend (:443 in the file). */
  https: number
  /** Its plain-HTTP bind, which only redirects (:80). */
  http: number
  /** The agents' TLS frontend, to the leader only (:7443). */
  agents: number
}

/**
 * deploy/cluster/haproxy.cfg on this run's ports and certificate (`pemFile`: certificate and key
 * in one file, as HAProxy wants). `user`/`group` go: the test runs it as whoever runs the tests.
 */
export function clusterHaproxyConfig(nodePorts: readonly number[], ports: HaproxyPorts, pemFile: string): string {
  const file = CLUSTER_HAPROXY_CFG
  let cfg = withNodes(file, readFileSync(file, 'utf8'), nodePorts)
  const crt = /crt \/etc\/haproxy\/certs\/monitor\.example\.com\.pem/g
  if ((cfg.match(crt) ?? []).length !== 2) throw new Error(`${file} changed: expected the certificate twice`)
  cfg = cfg.replace(crt, `crt ${pemFile}`)
  cfg = replaceOnce(file, cfg, /bind :443 ssl/, `bind 127.0.0.1:${ports.https} ssl`)
  cfg = replaceOnce(file, cfg, /bind :80\b/, `bind 127.0.0.1:${ports.http}`)
  cfg = replaceOnce(file, cfg, /bind :7443 ssl/, `bind 127.0.0.1:${ports.agents} ssl`)
  cfg = replaceOnce(file, cfg, /\n *user haproxy/, '')
  cfg = replaceOnce(file, cfg, /\n *group haproxy/, '')
  return cfg
}

export interface RunningHaproxy {
  output(): string
  stop(): Promise<void>
}

/** Checks the configuration (`haproxy -c`), then runs it in the foreground until every port listens. */
export async function startHaproxy(cfg: string, ports: readonly number[]): Promise<RunningHaproxy> {
  const haproxy = findHaproxy()
  const dir = mkdtempSync(join(tmpdir(), 'sm-haproxy-'))
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, cfg)
  const check = spawnSync(haproxy, ['-c', '-f', file], { encoding: 'utf8' })
  if (check.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`haproxy -c refused the configuration:\n${check.stdout}${check.stderr}`)
  }
  const child = spawn(haproxy, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`haproxy exited at start (${child.exitCode}):\n${output}`)
    }
    if ((await Promise.all(ports.map((port) => listening(port)))).every(Boolean)) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`haproxy did not listen on ${ports.join(', ')} within 10 s:\n${output}`)
    }
    await new Promise((done) => setTimeout(done, 50))
  }
  return { output: () => output, stop }
}
