/** Types of scripts/system-deps.mjs (plain Node, so that it runs before anything is installed or built). */

export type Has = { program: string[]; python?: never } | { python: string; program?: never }

export interface PackageRow {
  /** The Debian/Ubuntu package name. */
  name: string
  /** What in the tests needs it, for the messages. */
  for: string
  has: Has
}

export interface Abilities {
  apt: boolean
  root: boolean
  sudo: boolean
}

export type Plan =
  | { action: 'none' }
  | { action: 'install'; commands: string[][]; message: string }
  | { action: 'fail'; message: string }

export const PACKAGES: readonly PackageRow[]
export function findProgram(candidate: string, env?: NodeJS.ProcessEnv): string | null
export function systemProbe(env?: NodeJS.ProcessEnv, packages?: readonly PackageRow[]): (has: Has) => boolean
export function systemAbilities(env?: NodeJS.ProcessEnv): Abilities
export function plan(missing: readonly PackageRow[], abilities: Abilities): Plan
export function main(parts?: {
  packages?: readonly PackageRow[]
  probe?: (has: Has) => boolean
  abilities?: () => Abilities
  exec?: (command: string[]) => { ok: true } | { ok: false; detail: string }
  say?: (line: string) => void
  complain?: (line: string) => void
}): number
