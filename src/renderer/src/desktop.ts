/**
 * Desktop notifications for critical alerts: through the preload bridge
 * (`window.swarmMonitor`, Electron's `Notification`) inside the app, or the
 * browser's Notification API for remote viewers who turned it on (browsers
 * ask for permission only after a user gesture, hence the opt-in).
 */
import type { DomainEvent } from '../../shared/events'

/** Alert ids already notified: an alert re-sent (escalated, replayed) is not announced twice. */
const notified = new Set<string>()
const NOTIFIED_LIMIT = 1000
let browserEnabled = false

export function isDesktop(): boolean {
  return typeof window !== 'undefined' && window.swarmMonitor !== undefined
}

export type BrowserNotificationState = 'unsupported' | NotificationPermission

export function browserNotificationState(): BrowserNotificationState {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}

/** Asks the browser for permission; call it from a click handler. */
export async function requestBrowserNotifications(): Promise<BrowserNotificationState> {
  if (typeof Notification === 'undefined') return 'unsupported'
  return Notification.requestPermission()
}

export function setBrowserNotifications(on: boolean): void {
  browserEnabled = on
}

/** A system notification for each new, unacknowledged, unresolved critical alert in a batch. */
export function notifyCriticalAlerts(events: readonly DomainEvent[]): void {
  for (const event of events) {
    if (event.type !== 'alert') continue
    const { alert } = event
    if (alert.severity !== 'critical' || alert.acknowledged || alert.resolvedAt || notified.has(alert.id)) continue
    notified.add(alert.id)
    if (notified.size > NOTIFIED_LIMIT) notified.delete(notified.values().next().value as string)
    const title = `Swarm Monitor: ${alert.rule.replace(/-/g, ' ')}`
    const bridge = window.swarmMonitor
    if (bridge) bridge.notify(title, alert.message)
    else if (browserEnabled && browserNotificationState() === 'granted') {
      new Notification(title, { body: alert.message, tag: alert.id })
    }
  }
}
