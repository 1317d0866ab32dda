/**
 * Capacity at 100 viewers, compression off and on, beside a bare Socket.IO
 * server on the same clients: the highest rate of immediate events (error
 * log lines, which leave at the end of the turn) and of batched events (info
 * log lines, 1 s window, 100 a batch) at which ≥ 99.9 % reach every viewer
 * as events within 1 s (2 s) of being emitted (capacity-search.ts). Modes:
 * plain JSON; `deflate-raw` negotiated by every viewer (compressed once per
 * batch); per-socket permessage-deflate (`--ws-compression`, or the bare
 * server's `perMessageDeflate`) with plain-JSON viewers. Every mode has its
 * server and its 100 viewers connected throughout, and the search runs them
 * cell by cell (each rate for each mode in turn), so that other programs on
 * the machine weigh on all alike. The clients of a mode run in two processes
 * (client-pool.ts), so that one process parsing for all 100 is not what is
 * measured; each step says when they were the limit anyway.
 */
import { BENCH_TOKENS, type BenchEncoding, type ServerSetup } from '../api'
import { sleep } from '../child'
import { ClientPool } from '../client-pool'
import { searchTogether, type CapacityKind, type CapacityResult, type CapacitySubject } from '../capacity-search'
import { NO_DEMO, startServer, type RunSettings } from '../harness'
import type { Scenario, ScenarioOutcome, Verdict } from '../scenario'
import { table } from '../table'

const CLIENTS = 100
const PROCESSES = 2
/** Compressed capacity must stay within this share of the uncompressed one (issue 17). */
const WITHIN = 0.2

interface Mode {
  name: string
  label: string
  setup: ServerSetup
  encoding: BenchEncoding
}

const MODES: Mode[] = [
  { name: 'core-json', label: 'core, plain JSON', setup: NO_DEMO, encoding: 'json' },
  { name: 'core-deflate-raw', label: 'core, deflate-raw negotiated', setup: NO_DEMO, encoding: 'deflate-raw' },
  {
    name: 'core-ws-deflate',
    label: 'core, --ws-compression (per socket)',
    setup: { ...NO_DEMO, compression: true },
    encoding: 'json',
  },
  { name: 'bare-json', label: 'bare Socket.IO, plain JSON', setup: { ...NO_DEMO, baseline: true }, encoding: 'json' },
  {
    name: 'bare-deflate-raw',
    label: 'bare Socket.IO, deflate-raw',
    setup: { ...NO_DEMO, baseline: true },
    encoding: 'deflate-raw',
  },
  {
    name: 'bare-ws-deflate',
    label: 'bare Socket.IO, permessage-deflate',
    setup: { ...NO_DEMO, baseline: true, compression: true },
    encoding: 'json',
  },
]

const SEARCH: Record<CapacityKind, { start: number; max: number }> = {
  immediate: { start: 250, max: 64_000 },
  batched: { start: 1000, max: 128_000 },
}

export interface ModeResult {
  mode: string
  label: string
  /** Whether the viewers got what the mode promises (deflate-raw or permessage-deflate negotiated). */
  negotiated: boolean
  results: CapacityResult[]
}

/**
 * The modes of one group side by side: a server and a client pool each, all
 * connected, searched cell by cell (capacity-search.ts `searchTogether`).
 */
export async function measureGroup(
  settings: RunSettings,
  modes: readonly Mode[],
  kinds: readonly CapacityKind[],
  log: (line: string) => void,
): Promise<ModeResult[]> {
  const subjects: (CapacitySubject & { mode: Mode; negotiated: boolean })[] = []
  try {
    for (const mode of modes) {
      const server = await startServer(mode.setup)
      const pool = new ClientPool(PROCESSES)
      subjects.push({ label: mode.label, server, pool, mode, negotiated: false })
      const connect = await pool.connect({
        url: server.url,
        token: BENCH_TOKENS.viewer,
        count: CLIENTS,
        wave: 50,
        timeoutMs: 20_000,
        encoding: mode.encoding,
      })
      if (connect.failed > 0)
        throw new Error(`${mode.label}: ${connect.failed} clients failed: ${connect.errors.join('; ')}`)
      subjects.at(-1)!.negotiated = mode.setup.compression
        ? connect.deflate
        : mode.encoding === 'json' || connect.deflateRaw
    }
    await sleep(1000)
    const results = new Map<string, CapacityResult[]>()
    for (const kind of kinds) {
      log(`  ${kind}: ${modes.map((mode) => mode.label).join(' | ')}`)
      const found = await searchTogether(
        subjects,
        kind,
        {
          ...SEARCH[kind],
          durationMs: settings.quick ? 2000 : 5000,
          bisections: settings.quick ? 1 : 3,
          clients: CLIENTS,
        },
        log,
      )
      found.forEach((result, i) => results.set(modes[i]!.name, [...(results.get(modes[i]!.name) ?? []), result]))
    }
    return subjects.map(({ mode, negotiated }) => ({
      mode: mode.name,
      label: mode.label,
      negotiated,
      results: results.get(mode.name) ?? [],
    }))
  } finally {
    for (const { pool, server } of subjects) {
      await pool.stop()
      await server.child.stop('stop')
    }
  }
}

function capacityOf(rows: ModeResult[], mode: string, kind: CapacityKind): number | null {
  return rows.find((row) => row.mode === mode)?.results.find((result) => result.kind === kind)?.capacity ?? null
}

export const capacity: Scenario = {
  name: 'capacity',
  summary:
    'immediate and batched capacity at 100 clients (≥ 99.9 % as events, in time), compression off and on, vs bare Socket.IO',
  async run(settings): Promise<ScenarioOutcome> {
    // Every mode side by side, cell by cell (a quick run: the core's plain and deflate-raw only).
    const modes = settings.quick
      ? MODES.filter((mode) => mode.name === 'core-json' || mode.name === 'core-deflate-raw')
      : MODES
    const kinds: CapacityKind[] = ['immediate', 'batched']
    const rows = await measureGroup(settings, modes, kinds, (line) => console.log(line))

    const verdicts: Verdict[] = kinds.map((kind) => {
      const off = capacityOf(rows, 'core-json', kind) ?? 0
      const on = capacityOf(rows, 'core-deflate-raw', kind) ?? 0
      return {
        target: `${kind} capacity, 100 clients, deflate-raw negotiated: within ${WITHIN * 100} % of plain JSON`,
        measured: `${on.toLocaleString('en-US')} vs ${off.toLocaleString('en-US')} events/s (${off > 0 ? Math.round((on / off) * 100) : 0} %)`,
        met: off > 0 ? on >= off * (1 - WITHIN) : null,
      }
    })
    const limited = (result: CapacityResult) => {
      const last = result.steps.filter((step) => !step.pass).at(-1)
      return last?.clientLimit ? `client-limited (${last.clientLimit})` : (last?.why ?? '')
    }
    return {
      result: { clients: CLIENTS, processes: PROCESSES, rows },
      report: table(
        `Capacity, ${CLIENTS} clients in ${PROCESSES} processes: highest events/s with ≥ 99.9 % delivered as events within 1 s (batched: 2 s)`,
        ['mode', 'negotiated', ...kinds.flatMap((kind) => [`${kind} events/s`, 'first failure'])],
        rows.map((row) => [
          row.label,
          row.negotiated,
          ...row.results.flatMap((result) => [result.capacity, limited(result)]),
        ]),
      ),
      verdicts,
    }
  },
}
