/**
 * The task kinds' queues as this viewer sees them, live: each kind's limits
 * from the reducer-fed swarm state (`kind:limits` events and the snapshot),
 * its queued and running counts from the tasks held (every active task is),
 * and what holds it by the server's rule (`holdOf`). Nothing is polled: a
 * change by any operator shows within the operator channel's batch window.
 *
 * The one timer here is a clock: a rate holds a kind until a time the event
 * gave, and the hold is shown to end then without another event.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref, watchEffect } from 'vue'
import type { KindUpdateRequest } from '../../../shared/commands'
import { describeHold, holdOf, type KindHold, type KindInfo } from '../../../shared/kinds'
import type { Result } from '../../../shared/result'
import { isOnAgent } from '../../../shared/statuses'
import { useConnectionStore } from './connection'
import { useSwarmStore } from './swarm'

/**
 * A kind as the Queues panel lists it: `GET /api/kinds`'s fields but the dispatch count of the last minute, which
 * is the server's alone. Kinds listed: those of the tasks this viewer holds and those with limits set.
 */
export type KindRow = Omit<KindInfo, 'dispatchedLastMinute'>

interface Counts {
  queued: number
  running: number
}

export const useKindsStore = defineStore('kinds', () => {
  const swarm = useSwarmStore()
  /** Now, as the holds are judged: moved when a kind changes and when a rate's hold ends. */
  const now = ref(Date.now())
  let timer: ReturnType<typeof setTimeout> | null = null

  function tick(): void {
    if (timer) clearTimeout(timer)
    timer = null
    const at = Date.now()
    now.value = at
    let next = Infinity
    for (const state of swarm.kinds.values()) {
      if (state.rateHeldUntil !== null && state.rateHeldUntil > at) next = Math.min(next, state.rateHeldUntil)
    }
    if (next < Infinity) timer = setTimeout(tick, next - at + 1)
  }
  watchEffect(() => {
    void swarm.kinds
    tick()
  })

  /** Queued and running (assigned or running) tasks by kind, of those held. */
  const counts = computed(() => {
    const byKind = new Map<string, Counts>()
    for (const task of swarm.tasks.values()) {
      let count = byKind.get(task.kind)
      if (!count) byKind.set(task.kind, (count = { queued: 0, running: 0 }))
      if (task.status === 'queued') count.queued++
      else if (isOnAgent(task.status)) count.running++
    }
    return byKind
  })

  const kinds = computed<readonly KindRow[]>(() => {
    const states = swarm.kinds
    const names = [...new Set([...counts.value.keys(), ...states.keys()])].sort()
    return names.map((kind) => {
      const state = states.get(kind)
      const { queued, running } = counts.value.get(kind) ?? { queued: 0, running: 0 }
      return {
        kind,
        paused: state?.paused ?? false,
        maxRunning: state?.maxRunning ?? null,
        maxPerMinute: state?.maxPerMinute ?? null,
        queued,
        running,
        held: holdOf(state, running, now.value),
      }
    })
  })

  const loaded = computed(() => swarm.hasSnapshot)

  /** What holds a kind now; null: nothing (the counts are taken only for a kind with limits). */
  function holdOfKind(kind: string): KindHold | null {
    const state = swarm.kinds.get(kind)
    if (!state) return null
    return holdOf(state, counts.value.get(kind)?.running ?? 0, now.value)
  }

  /** What holds a queued task in the dispatch line by its kind's limits, as the server says it; null: nothing. */
  function heldBy(kind: string): string | null {
    const hold = holdOfKind(kind)
    return hold && describeHold(kind, hold)
  }

  /** The change comes back as a `kind:limits` event, to this viewer and every other. */
  function update(request: KindUpdateRequest): Promise<Result<KindInfo>> {
    return useConnectionStore().command('kind:update', request)
  }

  return { kinds, loaded, holdOfKind, heldBy, update }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useKindsStore, import.meta.hot))
