/**
 * Watches the whole machine's CPU while the bench runs (Linux /proc), so a
 * report can say how much of it other programs took: on a shared 2-core
 * machine, a test suite running next to the bench moves every figure.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** Busy and total jiffies over all CPUs. */
function machineJiffies(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const total = fields.reduce((sum, value) => sum + value, 0)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return null
  }
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces); null once the process is gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

/** utime + stime of a process, jiffies. */
function processJiffies(pid: number): number {
  const fields = statFields(pid)
  return fields ? Number(fields[11]) + Number(fields[12]) : 0
}

/** Parent → children of every process now running. */
function processTree(): Map<number, number[]> {
  const children = new Map<number, number[]>()
  let pids: number[] = []
  try {
    pids = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
  } catch {
    // not Linux
  }
  for (const pid of pids) {
    const parent = Number(statFields(pid)?.[1])
    if (parent > 0) children.set(parent, [...(children.get(parent) ?? []), pid])
  }
  return children
}

/** The processes `root` started (direct children only). */
export function childrenOf(root = process.pid): number[] {
  return processTree().get(root) ?? []
}

/**
 * Every process below `root` (children, theirs, …): the bench's server and
 * client processes, and Chromium with its renderer and utility processes.
 */
export function descendantPids(root = process.pid): number[] {
  const children = processTree()
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child)
      queue.push(child)
    }
  }
  return found
}

export interface CpuShare {
  /** All CPUs together, in % of one core (200 = both cores of a 2-core machine busy). */
  machinePct: number
  /** What the bench's own processes used. */
  benchPct: number
  /** The rest: other programs on the machine. */
  otherPct: number
}

export class CpuWatch {
  private readonly cores = availableParallelism()
  private timer: NodeJS.Timeout | null = null
  private machine = machineJiffies()
  private machineStart = this.machine
  private readonly last = new Map<number, number>()
  private benchJiffies = 0

  /** `pids`: the processes counted as the bench's; `self`: whether this process counts too. */
  constructor(
    private readonly pids: () => number[],
    private readonly self = true,
  ) {}

  start(): void {
    this.tick()
    this.timer = setInterval(() => this.tick(), 1000)
    this.timer.unref()
  }

  /** CPU shares since the last call (or start), then starts a new stretch. */
  lap(): CpuShare | null {
    this.tick()
    const end = this.machine
    const start = this.machineStart
    const bench = this.benchJiffies
    this.machineStart = end
    this.benchJiffies = 0
    if (!end || !start || end.total === start.total) return null
    const scale = (100 * this.cores) / (end.total - start.total)
    const machinePct = Math.round((end.busy - start.busy) * scale)
    const benchPct = Math.round(bench * scale)
    return { machinePct, benchPct, otherPct: Math.max(0, machinePct - benchPct) }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private tick(): void {
    this.machine = machineJiffies()
    for (const pid of this.self ? [process.pid, ...this.pids()] : this.pids()) {
      const now = processJiffies(pid)
      const before = this.last.get(pid)
      if (before !== undefined && now >= before) this.benchJiffies += now - before
      else if (before === undefined && pid !== process.pid) this.benchJiffies += now
      this.last.set(pid, now)
    }
  }
}

/**
 * Waits until other programs use less than `maxOtherPct` of one core over a
 * 3 s window, or `timeoutS` has passed; answers the last window's figure.
 */
export async function waitQuiet(timeoutS: number, maxOtherPct = 25): Promise<{ otherPct: number; waitedS: number }> {
  const started = Date.now()
  let otherPct = 0
  do {
    const watch = new CpuWatch(() => [])
    watch.lap()
    await new Promise((resolve) => setTimeout(resolve, 3000))
    otherPct = watch.lap()?.otherPct ?? 0
    if (otherPct < maxOtherPct) break
  } while (Date.now() - started < timeoutS * 1000)
  return { otherPct, waitedS: Math.round((Date.now() - started) / 1000) }
}
