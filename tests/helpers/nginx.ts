/**
 * Runs the shipped nginx configuration (deploy/nginx/swarm-monitor.conf) in a
 * real nginx on 127.0.0.1, started by the test itself in a temporary prefix:
 * its TLS server, its HTTP redirect, and two test-only servers with the same
 * `location /` block: one in plain HTTP, one without the WebSocket upgrade
 * headers (a proxy that does not pass upgrades).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from './ports'

export const NGINX_CONF = resolve(__dirname, '../../deploy/nginx/swarm-monitor.conf')

const INSTALL_HINT = 'install it: apt-get install -y nginx-light (Debian; or nginx)'

/** The nginx binary, or an error that names the package to install. */
export function findNginx(): string {
  for (const candidate of [process.env.NGINX, '/usr/sbin/nginx', 'nginx'].filter(Boolean) as string[]) {
    const probe = spawnSync(candidate, ['-v'], { encoding: 'utf8' })
    if (probe.status === 0) return candidate
  }
  throw new Error(`the reverse-proxy tests need nginx, which is not installed here: ${INSTALL_HINT}`)
}

export interface NginxPorts {
  /** The shipped TLS server. */
  tls: number
  /** The shipped plain-HTTP server (it redirects to HTTPS). */
  redirect: number
  /** Test only: the shipped `location /` in plain HTTP. */
  plain: number
  /** Test only: the shipped `location /` without the upgrade headers. */
  noUpgrade: number
}

export async function nginxPorts(): Promise<NginxPorts> {
  return { tls: await freePort(), redirect: await freePort(), plain: await freePort(), noUpgrade: await freePort() }
}

/** Replaces exactly one occurrence, or fails naming what the shipped file no longer holds. */
function replaceOnce(text: string, search: string | RegExp, replacement: string): string {
  const count = typeof search === 'string' ? text.split(search).length - 1 : (text.match(search) ?? []).length
  if (count !== 1) throw new Error(`${NGINX_CONF} changed: expected one ${String(search)}, found ${count}`)
  return text.replace(search, replacement)
}

/** The shipped configuration, pointed at this test's ports, certificate and upstream. */
export function siteConfig(upstreamPort: number, ports: NginxPorts, cert: { certFile: string; keyFile: string }) {
  let site = readFileSync(NGINX_CONF, 'utf8')
  site = replaceOnce(site, 'server 127.0.0.1:7420;', `server 127.0.0.1:${upstreamPort};`)
  site = replaceOnce(site, /listen 80;/, `listen 127.0.0.1:${ports.redirect};`)
  site = replaceOnce(site, /listen 443 ssl;/, `listen 127.0.0.1:${ports.tls} ssl;`)
  site = replaceOnce(site, /ssl_certificate +\S+;/, `ssl_certificate ${cert.certFile};`)
  site = replaceOnce(site, /ssl_certificate_key +\S+;/, `ssl_certificate_key ${cert.keyFile};`)
  const location = /\n {4}location \/ \{\n[\s\S]*?\n {4}\}\n/.exec(site)?.[0]
  if (!location) throw new Error(`${NGINX_CONF} changed: no "location / { … }" block`)
  let stripped = replaceOnce(location, /\n *proxy_set_header Upgrade \$http_upgrade;/, '')
  stripped = replaceOnce(stripped, /\n *proxy_set_header Connection \$connection_upgrade;/, '')
  return `${site}
# --- test only ---
server {
    listen 127.0.0.1:${ports.plain};
${location}}
server {
    listen 127.0.0.1:${ports.noUpgrade};
${stripped}}
`
}

export interface RunningNginx<P = NginxPorts> {
  ports: P
  /** Its temporary prefix (configuration, temp files); removed by `stop`. */
  dir: string
  output(): string
  stop(): Promise<void>
}

export function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('error', () => done(false))
  })
}

/**
 * Starts nginx in the foreground with a generated main configuration that includes the site;
 * resolves once it listens on every port of `ports` (the site's own, whatever their names).
 */
export async function startNginx<P extends Record<keyof P, number> = NginxPorts>(
  site: string,
  ports: P,
): Promise<RunningNginx<P>> {
  const nginx = findNginx()
  const dir = mkdtempSync(join(tmpdir(), 'sm-nginx-'))
  chmodSync(dir, 0o755)
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, sub))
    // Workers may run as another user than the master (root starts them as nobody).
    chmodSync(join(dir, sub), 0o777)
  }
  writeFileSync(join(dir, 'site.conf'), site)
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/site.conf;
}
`,
  )
  const child: ChildProcess = spawn(
    nginx,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${dir}/nginx.pid; error_log stderr;`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))

  const started = Date.now()
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`nginx exited at start (${child.exitCode}):\n${output}`)
    }
    const all = await Promise.all(Object.values<number>(ports).map((port) => listening(port)))
    if (all.every(Boolean)) break
    if (Date.now() - started > 10_000) {
      child.kill('SIGKILL')
      throw new Error(`nginx did not listen on ${JSON.stringify(ports)} within 10 s:\n${output}`)
    }
    await new Promise((done) => setTimeout(done, 50))
  }
  return {
    ports,
    dir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
