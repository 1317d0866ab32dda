import { ref, shallowRef } from 'vue'
import { useConnectionStore } from '../stores/connection'
import type { CommandName, CommandRequest } from '../stores/connection.model'

export interface CommandNotice {
  ok: boolean
  text: string
}

/**
 * Runs operator commands from a component: which targets are busy, and one
 * line saying how the last command went. The socket stays in the store.
 */
export function useCommand() {
  const connection = useConnectionStore()
  const busy = shallowRef(new Set<string>())
  const notice = ref<CommandNotice | null>(null)
  let clearTimer: ReturnType<typeof setTimeout> | undefined

  async function run<N extends CommandName>(
    name: N,
    payload: CommandRequest<N>,
    target: string,
    label: string,
  ): Promise<boolean> {
    busy.value = new Set(busy.value).add(target)
    try {
      const result = await connection.command(name, payload)
      say(
        result.ok
          ? { ok: true, text: `${label}: done` }
          : { ok: false, text: `${label} failed: ${result.error.message}` },
      )
      return result.ok
    } finally {
      const next = new Set(busy.value)
      next.delete(target)
      busy.value = next
    }
  }

  function say(next: CommandNotice): void {
    notice.value = next
    clearTimeout(clearTimer)
    clearTimer = setTimeout(() => (notice.value = null), next.ok ? 3000 : 8000)
  }

  return { busy, notice, run }
}
