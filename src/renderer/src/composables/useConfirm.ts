import { shallowRef } from 'vue'

export interface ConfirmRequest {
  title: string
  body: string
  confirmLabel: string
  /** Styles the confirm button as destructive. */
  danger?: boolean
}

interface Pending extends ConfirmRequest {
  resolve: (confirmed: boolean) => void
}

/** The one question on screen, if any; ConfirmDialog.vue (mounted once, in App) shows it. */
const pending = shallowRef<Pending | null>(null)

/**
 * Asks the user to confirm a consequential action. Resolves false when they
 * cancel, press Escape, or another question replaces this one.
 */
export function useConfirm() {
  function confirm(request: ConfirmRequest): Promise<boolean> {
    pending.value?.resolve(false)
    return new Promise((resolve) => {
      pending.value = { ...request, resolve }
    })
  }

  function answer(confirmed: boolean): void {
    const current = pending.value
    pending.value = null
    current?.resolve(confirmed)
  }

  return { pending, confirm, answer }
}
