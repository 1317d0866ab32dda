/**
 * Helpers for the views specs (views*.spec.ts): where screenshots go, the
 * operator's REST calls, an axe check, and a handle on the page's Pinia
 * stores for the few checks that need to reach behind the UI (the 100,000
 * task list, a command the UI hides from viewers).
 */
import { mkdirSync } from 'node:fs'
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { TEST_TOKENS, expect, type AppServer } from './fixtures'

/** docs/screenshots when SCREENSHOTS=docs, else test-results. */
export const SHOTS = process.env.SCREENSHOTS === 'docs' ? 'docs/screenshots' : 'test-results/screenshots'
mkdirSync(SHOTS, { recursive: true })

export const VIEWS = ['overview', 'agents', 'tasks', 'workflows', 'logs', 'alerts'] as const
export type View = (typeof VIEWS)[number]

/** Opens the dashboard on a view with a token in the fragment, and waits for the first snapshot. */
export async function openView(page: Page, app: AppServer, view: View, token = TEST_TOKENS.operator): Promise<void> {
  await page.goto(`${app.url}/#view=${view}&token=${token}`)
  await expect(page.locator('[data-testid="connection-indicator"]')).toHaveAttribute('data-state', 'connected')
  await expect(page.locator(`.layout[data-view="${view}"] main`)).toBeVisible()
  await expect(page.locator('[data-testid="view-state"]')).toHaveCount(0)
}

/** Submits a task over REST as the operator; answers the created task. */
export async function submitTask(
  page: Page,
  app: AppServer,
  body: Record<string, unknown>,
): Promise<{ id: string; status: string }> {
  const response = await page.request.post(`${app.url}/api/tasks`, {
    headers: { Authorization: `Bearer ${TEST_TOKENS.operator}` },
    data: body,
  })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: string; status: string }
}

/**
 * Serious and critical axe violations on the page as it is (all WCAG 2.1 A/AA rules, or `only` these, which may
 * name experimental rules), within `include` (a selector) or the whole page, as lines.
 */
export async function seriousViolations(page: Page, only?: string[], include?: string): Promise<string[]> {
  const builder = new AxeBuilder({ page }).options({ resultTypes: ['violations'] })
  if (include) builder.include(include)
  const results = await (
    only ? builder.withRules(only) : builder.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
  ).analyze()
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

/**
 * Runs `fn(store, arg)` in the page with one of the app's Pinia stores,
 * reached through Vue's mount point. Sent as an expression (the page's CSP
 * forbids eval, which does not apply to what the test driver evaluates).
 */
export function inStore<A, R>(
  page: Page,
  id: 'swarm' | 'connection' | 'ui',
  fn: (store: any, arg: A) => R, // eslint-disable-line @typescript-eslint/no-explicit-any
  arg: A,
): Promise<Awaited<R>> {
  const store = `document.querySelector('#app').__vue_app__.config.globalProperties.$pinia._s.get(${JSON.stringify(id)})`
  return page.evaluate(`(${fn.toString()})(${store}, ${JSON.stringify(arg)})`) as Promise<Awaited<R>>
}
