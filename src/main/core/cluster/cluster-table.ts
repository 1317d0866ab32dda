/**
 * The leader's row in PostgreSQL: `swarm_cluster`, one row (id 1) holding the
 * fencing term, the leader's node id and since when.
 *
 * Created here, idempotently, by the leadership connection rather than as a
 * history migration: it is cluster state, not history (a SQLite history
 * never has it, and the two backends' schema versions stay in step); the
 * leadership may connect before the history has migrated; and it needs no
 * data moved, ever. Two nodes starting at once serialise on a transaction
 * advisory lock, as the migrations do, so neither trips on the other's
 * CREATE.
 */
import type { ClientBase } from 'pg'
import { z } from 'zod'

/** The session-level lock whose holder leads ('SWMONLDR' in ASCII; any constant the same for every node). */
export const LEADER_LOCK_KEY = '6005353631133221970'

/** Serialises the table's creation (transaction-level, released at COMMIT). */
const CREATE_LOCK = 742_014

const ClusterRowSchema = z.object({
  // int8 comes back as text; a term stays far below 2^53.
  term: z.string().regex(/^\d+$/).transform(Number),
  leader: z.string().nullable(),
})

export interface ClusterRow {
  term: number
  leader: string | null
}

export async function ensureClusterTable(client: ClientBase): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK])
    await client.query(`
CREATE TABLE IF NOT EXISTS swarm_cluster (
  id integer PRIMARY KEY CHECK (id = 1),
  term bigint NOT NULL,
  leader text,
  since timestamptz
);
INSERT INTO swarm_cluster (id, term) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;`)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** The one row, parsed (never cast): a table someone else changed is an error, not a wrong term. */
export function readClusterRow(rows: readonly unknown[]): ClusterRow {
  if (rows.length !== 1) throw new Error(`swarm_cluster has ${rows.length} rows for id 1, expected one`)
  const parsed = ClusterRowSchema.safeParse(rows[0])
  if (!parsed.success) throw new Error(`swarm_cluster's row is not what this program wrote: ${parsed.error.message}`)
  return parsed.data
}
