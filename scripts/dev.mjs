#!/usr/bin/env node
// `npm run dev [-- flags]`: builds the core once, runs it headless on
// 127.0.0.1:7420 (or --port), and serves the renderer through Vite with hot
// reload on 127.0.0.1:5173, proxying /api and /socket.io to the core.
import { spawn, spawnSync } from 'node:child_process'

const args = process.argv.slice(2)
const portIndex = args.findIndex((arg) => arg === '--port' || arg === '-p')
const apiPort = portIndex >= 0 ? args[portIndex + 1] : '7420'
const devPort = process.env.SWARM_MONITOR_DEV_PORT ?? '5173'

const build = spawnSync('npx', ['electron-vite', 'build'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const children = []
const stopAll = (code) => {
  for (const child of children) child.kill('SIGTERM')
  process.exit(code)
}
process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))

const server = spawn(process.execPath, ['out/main/cli.js', ...(portIndex >= 0 ? args : ['--port', apiPort, ...args])], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
children.push(server)
server.on('exit', (code) => stopAll(code ?? 1))
let printed = false
server.stdout.on('data', (chunk) => {
  const text = chunk.toString()
  process.stdout.write(text)
  const token = /operator: \S+\/#token=(\S+)/.exec(text)?.[1]
  if (token && !printed) {
    printed = true
    const vite = spawn('npx', ['vite', '--config', 'vite.renderer.config.mts'], {
      stdio: 'inherit',
      env: { ...process.env, SWARM_MONITOR_DEV_API_PORT: apiPort, SWARM_MONITOR_DEV_PORT: devPort },
    })
    children.push(vite)
    vite.on('exit', (code) => stopAll(code ?? 1))
    process.stdout.write(`\nHot-reloading dashboard: http://127.0.0.1:${devPort}/#token=${token}\n\n`)
  }
})
