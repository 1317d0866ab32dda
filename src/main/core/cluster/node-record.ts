/**
 * A node's entry in the `swarm:nodes` hash, as each node writes it (JSON) and
 * reads the others' back: parsed, never cast, so an entry some other program
 * or version wrote is skipped (and deleted) rather than trusted.
 */
import { z } from 'zod'

/** What a node writes: ClusterNode without `gone`, plus `left` once it stopped cleanly. */
export const StoredNodeSchema = z.object({
  id: z.string().min(1).max(64),
  role: z.enum(['leader', 'follower']),
  url: z.string().max(2048),
  viewers: z.number().int().min(0),
  agents: z.number().int().min(0),
  startedAt: z.number(),
  lastSeenAt: z.number(),
  seq: z.number().int().min(0),
  lag: z.number().int().min(0),
  term: z.number().int().min(0),
  left: z.boolean().optional(),
})
export type StoredNode = z.infer<typeof StoredNodeSchema>

/** The entry, or null when it is not one this program wrote. */
export function parseNode(value: string): StoredNode | null {
  try {
    const parsed = StoredNodeSchema.safeParse(JSON.parse(value))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
