/**
 * Ends the local agents' process groups when this server ends in a way none
 * of its own code survives: kill -9, out of memory, a crash in native code.
 *
 * A small POSIX sh script, started detached (its own session and process
 * group, so a signal to the server's group does not reach it) and ignoring
 * SIGINT, SIGHUP and SIGTERM. It is told `+PGID` when a group starts and
 * `-PGID` once it is gone, one line each on its stdin. When its stdin reaches
 * end of file — the server closed it at stop, or died, however — it sends
 * SIGTERM to every group it still knows, SIGKILL after the grace to those
 * still there, and exits. It is sh, not Node: in the packaged desktop app
 * `process.execPath` is Electron, and sh needs nothing from the app.
 *
 * Ends the server runs through ('exit': `process.exit`, an uncaught
 * exception) also get an immediate SIGTERM to every group from here, so the
 * reaper's part there is only the SIGKILL. Windows has no process groups
 * (local agents end trees with taskkill): nothing is started there.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { signalGroup } from './process-group'

const SCRIPT = `
trap '' INT HUP TERM
grace=$1
groups=' '
while IFS= read -r line; do
  id=\${line#[+-]}
  case $id in ''|*[!0-9]*) continue ;; esac
  case $line in
    +*) case $groups in *" $id "*) ;; *) groups="$groups$id " ;; esac ;;
    -*) case $groups in *" $id "*) groups="\${groups%% $id *} \${groups#* $id }" ;; esac ;;
  esac
done
[ "$groups" = ' ' ] && exit 0
for id in $groups; do kill -s TERM -- "-$id" 2>/dev/null; done
waited=0
while [ "$waited" -lt "$grace" ]; do
  alive=
  for id in $groups; do kill -s 0 -- "-$id" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && exit 0
  sleep 1
  waited=$((waited + 1))
done
for id in $groups; do kill -s KILL -- "-$id" 2>/dev/null; done
exit 0
`

export interface ReaperOptions {
  /** Between SIGTERM and SIGKILL; the script counts whole seconds (at least one). */
  graceMs: number
  /** Said when the reaper could not start or ended while the server runs. */
  warn: (message: string, fields?: Record<string, unknown>) => void
}

export class ProcessReaper {
  private child: ChildProcess | null = null
  private readonly groups = new Set<number>()
  private stopping = false
  private readonly onExit = () => {
    for (const pgid of this.groups) {
      try {
        signalGroup(pgid, 'SIGTERM')
      } catch {
        // Exiting anyway: the reaper still sends SIGKILL after the grace.
      }
    }
  }

  constructor(private readonly options: ReaperOptions) {}

  /** The reaper's pid, once started (for the log, and for tests that must stop it). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  start(): void {
    if (process.platform === 'win32' || this.child) return
    const graceS = String(Math.max(1, Math.ceil(this.options.graceMs / 1000)))
    const child = spawn('/bin/sh', ['-c', SCRIPT, 'swarm-monitor-reaper', graceS], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    this.child = child
    // Writing to a reaper that is gone fails with EPIPE: the 'exit' below has said so already.
    child.stdin!.on('error', () => {})
    child.once('error', (error) => this.options.warn(`the process reaper could not start: ${error.message}`))
    child.once('exit', (code, signal) => {
      this.child = null
      if (!this.stopping) {
        this.options.warn(
          'the process reaper ended while the server runs: shell tasks may outlive a crash of the server (the next start still ends them)',
          { code, signal },
        )
      }
    })
    // Neither the reaper nor its pipe keeps this process alive.
    child.unref()
    ;(child.stdin as unknown as { unref?: () => void }).unref?.()
    process.on('exit', this.onExit)
  }

  add(pgid: number): void {
    this.groups.add(pgid)
    this.tell(`+${pgid}`)
  }

  remove(pgid: number): void {
    if (this.groups.delete(pgid)) this.tell(`-${pgid}`)
  }

  /** Closes the reaper's stdin: it ends the groups it was not told are gone, then exits. */
  stop(): void {
    this.stopping = true
    process.off('exit', this.onExit)
    this.child?.stdin?.end()
  }

  private tell(line: string): void {
    const stdin = this.child?.stdin
    if (stdin && stdin.writable) stdin.write(`${line}\n`)
  }
}
