/**
 * The process groups local agents are running, kept on disk so that they
 * outlive a server that dies without ending them (kill -9, out of memory):
 * one file per group, `<data-dir>/processes/<pgid>.json` (0600, in a 0700
 * folder), written when the group starts and removed once it is gone. What
 * the next start finds there may still be running; leftovers.ts ends the
 * groups that are still the same processes before any task is dispatched.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { processIdentity } from '../process-identity'
import { writePrivateFile } from '../private-file'

export const PROCESSES_DIR = 'processes'

export interface ProcessRecord {
  /** The group's id: the pid of its leader, the `/bin/sh` that runs the command. */
  pgid: number
  taskId: string
  /** The leader's process identity (../process-identity.ts): a later process with the same pid differs. */
  identity: string
  startedAt: number
  /** The server that started it, for whoever reads the file. */
  serverPid: number
}

function parseRecord(text: string): ProcessRecord | null {
  try {
    const value = JSON.parse(text) as Partial<ProcessRecord>
    if (!Number.isSafeInteger(value.pgid) || (value.pgid ?? 0) <= 1) return null
    if (typeof value.taskId !== 'string' || typeof value.identity !== 'string') return null
    return {
      pgid: value.pgid!,
      taskId: value.taskId,
      identity: value.identity,
      startedAt: Number(value.startedAt) || 0,
      serverPid: Number(value.serverPid) || 0,
    }
  } catch {
    return null
  }
}

export class ProcessRegistry {
  readonly dir: string

  constructor(dataDir: string) {
    this.dir = join(dataDir, PROCESSES_DIR)
  }

  private file(pgid: number): string {
    return join(this.dir, `${pgid}.json`)
  }

  /**
   * Records a group that has just started. False when the leader's identity
   * cannot be read (Windows, or it has already ended): such a record could
   * never be acted on safely, so none is written.
   */
  add(pgid: number, taskId: string): boolean {
    const identity = processIdentity(pgid)
    if (identity === null) return false
    const record: ProcessRecord = { pgid, taskId, identity, startedAt: Date.now(), serverPid: process.pid }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    writePrivateFile(this.file(pgid), JSON.stringify(record) + '\n')
    return true
  }

  remove(pgid: number): void {
    rmSync(this.file(pgid), { force: true })
  }

  /** The records on disk. Files that are not records (damaged, a temporary one left by a crash) are removed. */
  list(): ProcessRecord[] {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    const records: ProcessRecord[] = []
    for (const name of names) {
      const path = join(this.dir, name)
      let record: ProcessRecord | null = null
      try {
        record = /^\d+\.json$/.test(name) ? parseRecord(readFileSync(path, 'utf8')) : null
      } catch {
        record = null
      }
      if (record) records.push(record)
      else rmSync(path, { force: true, recursive: true })
    }
    return records
  }

  /** Forgets every record. */
  clear(): void {
    for (const record of this.list()) this.remove(record.pgid)
  }
}
