import { onBeforeUnmount, onMounted } from 'vue'
import { useConnectionStore } from '../stores/connection'
import { useUiStore } from '../stores/ui'
import type { ViewName } from '../stores/ui'

/** `g` then a letter, or a digit: the views. */
export const VIEW_KEYS: { view: ViewName; letter: string; digit: string }[] = [
  { view: 'overview', letter: 'o', digit: '1' },
  { view: 'agents', letter: 'a', digit: '2' },
  { view: 'tasks', letter: 't', digit: '3' },
  { view: 'logs', letter: 'l', digit: '4' },
  { view: 'alerts', letter: 'x', digit: '5' },
  { view: 'audit', letter: 'u', digit: '6' },
  { view: 'workflows', letter: 'w', digit: '7' },
  { view: 'cluster', letter: 'c', digit: '8' },
]

/** Documented in the `?` overlay (ShortcutsOverlay.vue) and docs/user-guide.md. */
export const SHORTCUTS: { keys: string[]; what: string }[] = [
  ...VIEW_KEYS.map(({ view, letter, digit }) => ({
    keys: [`g ${letter}`, digit],
    what: `Go to ${view[0]!.toUpperCase()}${view.slice(1)}`,
  })),
  { keys: ['/'], what: 'Focus the filter or search box of the view' },
  { keys: ['↓', '↑', 'j', 'k'], what: 'Next / previous row of a list' },
  { keys: ['Enter'], what: 'Open the focused row’s details' },
  { keys: ['Space', 'Shift+Space'], what: 'Select the focused task for a bulk action, or a range (Tasks, operators)' },
  { keys: ['n'], what: 'New shell task (operators)' },
  { keys: ['Esc'], what: 'Close the details, dialog or this overlay' },
  { keys: ['?'], what: 'Show or hide these shortcuts' },
]

/** How long after `g` the second key still counts. */
const SEQUENCE_MS = 1200

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null
  if (!el) return false
  return el.isContentEditable || !!el.closest('input, textarea, select, [contenteditable="true"]')
}

/** The app's global shortcuts; installed once, by App.vue. */
export function useShortcuts(): void {
  const ui = useUiStore()
  const connection = useConnectionStore()
  let pendingG = 0

  function onKey(event: KeyboardEvent): void {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return
    // Modal dialogs (confirm, submit, this overlay) handle their own keys, Escape included.
    if ((event.target as Element | null)?.closest?.('dialog')) return
    if (event.key === 'Escape') {
      if (ui.selectedTaskId || ui.selectedAgentId) ui.closeDetail()
      else if (typing(event.target)) (event.target as HTMLElement).blur()
      return
    }
    if (typing(event.target)) return
    const key = event.key
    if (pendingG && Date.now() - pendingG < SEQUENCE_MS) {
      pendingG = 0
      const target = VIEW_KEYS.find((v) => v.letter === key)
      if (target) {
        event.preventDefault()
        ui.navigate(target.view)
      }
      return
    }
    pendingG = 0
    if (key === 'g') {
      pendingG = Date.now()
      return
    }
    const byDigit = VIEW_KEYS.find((v) => v.digit === key)
    if (byDigit) {
      event.preventDefault()
      ui.navigate(byDigit.view)
    } else if (key === '?') {
      event.preventDefault()
      ui.shortcutsOpen = !ui.shortcutsOpen
    } else if (key === '/') {
      const input = document.querySelector<HTMLInputElement>('main [data-shortcut-filter]')
      if (input) {
        event.preventDefault()
        input.focus()
        input.select()
      }
    } else if (key === 'n' && connection.role === 'operator') {
      event.preventDefault()
      if (ui.view !== 'tasks') ui.navigate('tasks')
      ui.submitOpen = true
    }
  }

  onMounted(() => window.addEventListener('keydown', onKey))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey))
}
