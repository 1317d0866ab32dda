/**
 * The operator's records beside the task history: the audit trail, the saved
 * views, the metric samples kept for long time ranges and the per-kind limits
 * (their table comes with `KIND_LIMITS_SCHEMA_VERSION`, kind-limits-schema.ts). A sibling of the
 * `TaskHistory` port, in the same database (its tables come with schema
 * version `OPERATOR_SCHEMA_VERSION`, operator-schema.ts); each history
 * backend hands out its adapter (`HistoryBackend.operatorStore()`), usable
 * once the history is open and until it closes. One contract suite
 * (`tests/unit/core/operator-store.test.ts`) runs against both.
 *
 * Writes here are not on the submit path: callers batch them
 * (`audit-trail.ts`, `metrics/metric-history.ts`) and a failed write is theirs
 * to keep and retry. A read that fails rejects; the routes answer `503`.
 */
import type { AuditPage, AuditQuery, AuditRecord } from '../../../shared/audit'
import type { MetricsSample } from '../../../shared/domain'
import type { KindLimits } from '../../../shared/kinds'
import type { SavedView } from '../../../shared/saved-views'
import type { ScheduleStore } from './schedule-store'

/** A kind's limits as stored. */
export interface StoredKindLimits extends KindLimits {
  kind: string
}

export type SaveViewOutcome = 'created' | 'replaced' | 'full'

/** Schedules (`ScheduleStore`): their rows come with schema version 6 (schedule-schema.ts). */
export interface OperatorStore extends ScheduleStore {
  /** Appends the records in one transaction, in order; each gets the next id. */
  appendAudit(records: readonly AuditRecord[]): Promise<void>
  /** Entries newest first, filtered and paged; a `cursor` no page handed out throws a `HistoryQueryError`. */
  audit(query: AuditQuery): Promise<AuditPage>
  /** Deletes entries older than `cutoff` or beyond the newest `maxEntries`; resolves with how many went. */
  pruneAudit(cutoff: number, maxEntries: number): Promise<number>

  /** Every saved view, by name. */
  views(): Promise<SavedView[]>
  /**
   * Saves `view`; a view of the same name (case aside) is replaced, keeping
   * its id. `full` (nothing saved): there are `maxViews` already and this
   * name is new.
   */
  saveView(view: SavedView, maxViews: number): Promise<{ outcome: SaveViewOutcome; view: SavedView }>
  /** Deletes the view with this id; resolves with it, or null when there was none. */
  deleteView(id: string): Promise<SavedView | null>

  /** Every kind with limits set, by kind. */
  kindLimits(): Promise<StoredKindLimits[]>
  /** Replaces a kind's limits; at the defaults (`isDefaultLimits`) its row goes. `at`: when it changed. */
  saveKindLimits(limits: StoredKindLimits, at: number): Promise<void>

  /** Stores samples of one tier (`stepMs` apart); a sample at a stored time replaces it. */
  appendSamples(stepMs: number, samples: readonly MetricsSample[]): Promise<void>
  /** The tier's samples with `from <= at < to`, oldest first. */
  samples(stepMs: number, from: number, to: number): Promise<MetricsSample[]>
  /** Deletes the tier's samples older than `cutoff`; resolves with how many went. */
  pruneSamples(stepMs: number, cutoff: number): Promise<number>
}
