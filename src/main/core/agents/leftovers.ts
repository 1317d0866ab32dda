/**
 * At start, before any task is dispatched: the process groups a previous
 * server left running (it died without ending them, and its reaper could not
 * either) are ended, so a requeued task never runs beside its old copy.
 *
 * Only a group whose leader is still the very process that was recorded is
 * signalled (same pid and same process identity): a pid that now belongs to
 * another process is left alone. A group whose leader is gone but whose
 * other members still run cannot be told apart from a later group that
 * reuses the id, so it is reported, not signalled.
 */
import type { Logger } from '../logger'
import { pidExists, processIdentity } from '../process-identity'
import { groupExists, signalGroup } from './process-group'
import type { ProcessRecord, ProcessRegistry } from './process-registry'

export interface LeftoverReport {
  /** Groups that were still running and have been ended (SIGTERM, then SIGKILL after the grace). */
  ended: ProcessRecord[]
  /** Groups whose leader is gone but whose id is still in use: left alone. */
  leaderless: ProcessRecord[]
  /** Records of groups that had ended, or whose pid now belongs to another process. */
  gone: number
}

const POLL_MS = 50
/** SIGKILL cannot be ignored; this only covers the moment the kernel takes to end the process. */
const KILL_WAIT_MS = 1000

/** Resolves once no recorded leader runs any more, or after `waitMs`. */
async function leadersEnded(records: readonly ProcessRecord[], waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs
  const running = () => records.some((record) => processIdentity(record.pgid) === record.identity)
  while (running() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, POLL_MS))
}

function signal(pgid: number, name: NodeJS.Signals): void {
  try {
    signalGroup(pgid, name)
  } catch {
    // EPERM: not ours to signal after all; nothing more to do about it.
  }
}

/** Ends the recorded groups that are still the same processes and forgets every record. */
export async function endLeftovers(registry: ProcessRegistry, graceMs: number): Promise<LeftoverReport> {
  const report: LeftoverReport = { ended: [], leaderless: [], gone: 0 }
  for (const record of registry.list()) {
    if (processIdentity(record.pgid) === record.identity) report.ended.push(record)
    else if (!pidExists(record.pgid) && groupExists(record.pgid)) report.leaderless.push(record)
    else report.gone++
  }
  for (const record of report.ended) signal(record.pgid, 'SIGTERM')
  await leadersEnded(report.ended, graceMs)
  // The leaders have ended (or ignored SIGTERM for the whole grace); whatever is left in their groups goes now.
  for (const record of report.ended) signal(record.pgid, 'SIGKILL')
  await leadersEnded(report.ended, KILL_WAIT_MS)
  registry.clear()
  return report
}

export function logLeftovers(report: LeftoverReport, logger: Logger): void {
  for (const { pgid, taskId } of report.ended) {
    logger.warn({ pgid, task: taskId }, 'ended a process group of a shell task the previous server left running')
  }
  for (const { pgid, taskId } of report.leaderless) {
    logger.warn(
      { pgid, task: taskId },
      `a process group of the previous server may still run without its leader: not ended, its id may be another's now (see: ps -o pid,args -g ${pgid})`,
    )
  }
}
