/**
 * `npm run dev`: Vite's dev server for the renderer alone, with hot reload,
 * proxying the API and Socket.IO to the headless server that scripts/dev.mjs
 * starts beside it. (electron-vite's own dev mode needs the Electron runtime.)
 */
import { resolve } from 'node:path'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const api = `http://127.0.0.1:${process.env.SWARM_MONITOR_DEV_API_PORT ?? '7420'}`

export default defineConfig({
  root: resolve(import.meta.dirname, 'src/renderer'),
  resolve: { alias: { '@renderer': resolve(import.meta.dirname, 'src/renderer/src') } },
  plugins: [vue()],
  worker: { format: 'es' },
  server: {
    host: '127.0.0.1',
    port: Number(process.env.SWARM_MONITOR_DEV_PORT ?? 5173),
    strictPort: true,
    proxy: {
      '/socket.io': { target: api, ws: true },
      '/api': api,
      '/healthz': api,
    },
  },
})
