/** Resident memory and CPU time of the current process, for the bench's reports. */
import { readFileSync } from 'node:fs'
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

export function sampleProcess(): ProcessSample {
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  return {
    at: Date.now(),
    rssMb: residentBytes() / MB,
    heapUsedMb: memory.heapUsed / MB,
    externalMb: memory.external / MB,
    cpuMs: (cpu.user + cpu.system) / 1000,
  }
}

/** Full garbage collection when node runs with --expose-gc, so memory figures compare like with like. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) {
    gc()
    gc()
  }
}
