import { computed, type ComputedRef } from 'vue'
import { useConnectionStore } from '../stores/connection'
import { useNow } from './useNow'

/**
 * The server's clock, ticking once a second: our clock plus the offset the
 * connection's heartbeat measures (each `ping` answer carries the server's
 * time; shared/client/heartbeat.ts). Ages and
 * running times of server timestamps (heartbeats, task starts, alerts) are
 * taken from it, so a client whose clock is off does not show them wrong.
 * Times this page stamps itself (when it last heard from the server, the
 * next retry) stay on `useNow()`.
 */
export function useServerNow(): ComputedRef<number> {
  const now = useNow()
  const connection = useConnectionStore()
  return computed(() => now.value + connection.clockOffsetMs)
}
