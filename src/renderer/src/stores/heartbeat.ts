/**
 * The application heartbeat: `ping` with an acknowledgement every interval,
 * one at a time, measuring the round trip. Socket.IO's own ping runs
 * server → client and is not exposed, hence this one.
 */
import { HEARTBEAT } from './connection.model'
import type { DashboardSocket } from './connection.model'

export interface HeartbeatHandlers {
  /** Round trip in ms, and the server's clock minus ours (estimated). */
  onAnswer(rttMs: number, clockOffsetMs: number | null): void
  onTimeout(): void
}

export interface Heartbeat {
  stop(): void
}

export function startHeartbeat(socket: DashboardSocket, handlers: HeartbeatHandlers): Heartbeat {
  let stopped = false
  let inFlight = false

  async function ping(): Promise<void> {
    if (stopped || inFlight || !socket.connected) return
    inFlight = true
    const sentAt = performance.now()
    try {
      const result = await socket.timeout(HEARTBEAT.timeoutMs).emitWithAck('ping')
      if (stopped) return
      const rtt = performance.now() - sentAt
      handlers.onAnswer(rtt, result.ok ? result.data.serverTime + rtt / 2 - Date.now() : null)
    } catch {
      if (!stopped && socket.connected) handlers.onTimeout()
    } finally {
      inFlight = false
    }
  }

  void ping()
  const timer = setInterval(() => void ping(), HEARTBEAT.intervalMs)
  return {
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}
