/**
 * Desktop-only extras through the preload bridge (`window.swarmMonitor`);
 * each is a no-op in a plain browser.
 */
import type { DomainEvent } from '../../shared/events'

/** A system notification for each new, unacknowledged critical alert in a batch. */
export function notifyCriticalAlerts(events: readonly DomainEvent[]): void {
  const bridge = window.swarmMonitor
  if (!bridge) return
  for (const event of events) {
    if (event.type === 'alert' && event.alert.severity === 'critical' && !event.alert.acknowledged) {
      bridge.notify(`Swarm Monitor: ${event.alert.rule}`, event.alert.message)
    }
  }
}
