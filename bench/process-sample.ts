/** Resident memory and CPU time of the current process, for the bench's reports. */
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { ProcessSample } from './api'

const MB = 1024 * 1024

/** VmRSS from /proc (what `top` shows); process.memoryUsage().rss where /proc is missing. */
function residentBytes(): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match) return Number(match[1]) * 1024
  } catch {
    // not Linux
  }
  return process.memoryUsage.rss()
}

/** How late the event loop ran, between two samples. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()

export function sampleProcess(): ProcessSample {
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  const sample = {
    at: Date.now(),
    rssMb: residentBytes() / MB,
    heapUsedMb: memory.heapUsed / MB,
    externalMb: memory.external / MB,
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  }
  loopDelay.reset()
  return sample
}

/** Full garbage collection when node runs with --expose-gc, so memory figures compare like with like. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) {
    gc()
    gc()
  }
}
