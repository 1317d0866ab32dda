/** Test data builders shared by unit tests. */
import type { MetricsSample } from '../../src/shared/domain'

/** A metrics sample at `at` with every figure 0 unless given. */
export function sample(at: number, overrides: Partial<MetricsSample> = {}): MetricsSample {
  return {
    at,
    agents: { idle: 0, busy: 0, paused: 0, error: 0, offline: 0 },
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    throughput: 0,
    ...overrides,
  }
}
