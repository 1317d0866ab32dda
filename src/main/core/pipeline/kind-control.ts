/**
 * Per-kind limits as operators change them: stored first, then applied, so a
 * limit the history did not take is not in force either (and a restart never
 * finds less than what was answered). Changes run one after another: two at
 * once on one kind cannot each keep half of the other's. At start, the stored
 * limits are applied before any agent is there to take a task.
 */
import type { KindUpdateRequest } from '../../../shared/commands'
import { isDefaultLimits, KIND_LIMITS, type KindInfo, type KindLimits } from '../../../shared/kinds'
import { CoordinatorError, type Coordinator } from '../coordinator/coordinator'
import type { OperatorStore } from '../storage/operator-store'

export class KindControl {
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly coordinator: Coordinator,
    private readonly store: Pick<OperatorStore, 'kindLimits' | 'saveKindLimits'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies the stored limits (at start, once the history is open). Resolves with how many kinds had some. */
  async load(): Promise<number> {
    const stored = await this.store.kindLimits()
    for (const { kind, ...limits } of stored) this.coordinator.setKindLimits(kind, limits)
    return stored.length
  }

  /** Changes one kind's limits; a refusal (`conflict`, `unavailable`) changes nothing. */
  update(request: KindUpdateRequest): Promise<KindInfo> {
    const next = this.queue.then(() => this.apply(request))
    this.queue = next.catch(() => {})
    return next
  }

  private async apply({ kind, ...changes }: KindUpdateRequest): Promise<KindInfo> {
    const current = this.coordinator.kindLimits(kind)
    const limits: KindLimits = { ...current, ...changes }
    const configured = this.coordinator.configuredKinds()
    if (!configured.has(kind) && !isDefaultLimits(limits) && configured.size >= KIND_LIMITS.configured) {
      throw new CoordinatorError(
        'conflict',
        `${KIND_LIMITS.configured} kinds have limits set, the most a server keeps: clear one first`,
      )
    }
    try {
      await this.store.saveKindLimits({ kind, ...limits }, this.now())
    } catch (error) {
      throw new CoordinatorError(
        'unavailable',
        `the history database did not take the change, so it is not applied: ${(error as Error).message}`,
      )
    }
    return this.coordinator.setKindLimits(kind, limits)
  }
}
