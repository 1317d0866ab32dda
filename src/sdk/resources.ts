/** The agent process's own resource figures, sent with each heartbeat by default. */
import type { AgentMetrics } from '../shared/agent-messages'

/** Returns a sampler: CPU percent of this process since the previous call, resident memory in MB. */
export function processResources(): () => AgentMetrics {
  let lastCpu = process.cpuUsage()
  let lastAt = process.hrtime.bigint()
  return () => {
    const cpu = process.cpuUsage(lastCpu)
    const now = process.hrtime.bigint()
    const elapsedUs = Number(now - lastAt) / 1000
    lastCpu = process.cpuUsage()
    lastAt = now
    const percent = elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs) * 100 : 0
    return {
      cpu: Math.round(percent * 10) / 10,
      memoryMb: Math.round(process.memoryUsage.rss() / (1024 * 1024)),
    }
  }
}
