/**
 * Saved views: a named set of a view's URL parameters (filters, search,
 * sort), stored on the server for everyone. Zod-free, for the renderer; the
 * server's schema (`main/core/server/operator-routes.ts`) builds on these
 * limits.
 */

/** The views whose state a saved view or a link can hold. */
export const SAVED_VIEW_PAGES = ['tasks', 'agents', 'logs'] as const
export type SavedViewPage = (typeof SAVED_VIEW_PAGES)[number]

export const SAVED_VIEW_LIMITS = {
  /** Saved views on a server. */
  views: 200,
  nameLength: 64,
  /** Parameters in one view, and their keys' and values' lengths. */
  params: 16,
  keyLength: 32,
  valueLength: 500,
} as const

/** A parameter key: a view's prefix and a field, e.g. `tasks.status` (see the renderer's `stores/ui.route.ts`). */
export const SAVED_VIEW_KEY_PATTERN = /^[a-z]{1,16}\.[a-z]{1,15}$/

export interface SavedViewInput {
  /** Shown in the picker; unique on the server, case aside (saving a name again replaces that view). */
  name: string
  view: SavedViewPage
  params: Record<string, string>
}

export interface SavedView extends SavedViewInput {
  id: string
  /** The token name that saved it. */
  createdBy: string
  createdAt: number
}
