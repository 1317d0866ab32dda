/** `npm run cluster:demo`'s arguments and its check of the programs it needs (scripts/cluster-demo.ts). */

/** The port nginx listens on when `--port` is not given. */
export const DEFAULT_PORT = 7420

/** The Debian packages (the probes' names) whose program is missing: a probe throws when it finds none. */
export function missingPackages(probes: Record<string, () => unknown>): string[] {
  return Object.entries(probes).flatMap(([name, probe]) => {
    try {
      probe()
      return []
    } catch {
      return [name]
    }
  })
}

/** `--port N` (0: any free port), or the default; a bad value throws naming it. */
export function parsePort(argv: readonly string[]): number {
  const at = argv.indexOf('--port')
  if (at === -1) return DEFAULT_PORT
  const port = Number(argv[at + 1])
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port: not a port: ${argv[at + 1]}`)
  return port
}

/** The one line printed when programs are missing: what, and the command that installs them. */
export function missingMessage(packages: readonly string[]): string {
  return `cluster:demo needs ${packages.join(', ')}, not installed here: apt-get install -y ${packages.join(' ')}`
}
