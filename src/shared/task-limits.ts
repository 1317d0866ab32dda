/**
 * What a task submission may hold, without zod: `commands.ts` and
 * `domain.ts` build their schemas from these, and the renderer's submit form
 * takes its bounds and its environment-name check from here too, so the form
 * and the server cannot disagree.
 */

export const TASK_LIMITS = {
  /** Characters in a task's name. */
  nameLength: 200,
  /** Characters in a task's kind. */
  kindLength: 64,
  /** Higher runs first. */
  priority: { min: -1000, max: 1000 },
  /** Retries after the first attempt. */
  maxRetries: 100,
  /** The longest timeout: a week. */
  timeoutMs: 7 * 24 * 3600 * 1000,
  /** Capabilities a task may require, and characters in each. */
  capabilities: 32,
  capabilityLength: 64,
  /** A shell task's command, working directory and each environment value, in characters. */
  commandLength: 8192,
  cwdLength: 4096,
  envValueLength: 8192,
  /** Tasks one task may depend on (`dependsOn`). */
  dependsOn: 100,
} as const

/** A name a shell task's environment may set: a letter or `_`, then letters, digits and `_`. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

/** A capability tag: short, printable, no spaces. */
export const CAPABILITY_PATTERN = /^[A-Za-z0-9_.:/-]+$/

export function isEnvName(name: string): boolean {
  return ENV_NAME_PATTERN.test(name)
}
