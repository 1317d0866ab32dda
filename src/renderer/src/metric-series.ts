/**
 * The charts' samples: the stored history (`GET /api/metrics`) for what
 * came before the live samples this page holds, then the live ones, at the
 * range's step. Pure, unit-tested.
 */
import type { MetricsSample } from '../../shared/domain'
import { downsample } from '../../shared/metric-ranges'

/** Stored samples older than the first live one, then the live ones downsampled to `stepMs` (1 s: as they are). */
export function joinSamples(
  stored: readonly MetricsSample[],
  live: readonly MetricsSample[],
  stepMs: number,
): MetricsSample[] {
  const tail = stepMs > 1000 ? downsample(live, stepMs) : [...live]
  const start = tail[0]?.at ?? Number.POSITIVE_INFINITY
  const before = stored.filter((sample) => sample.at < start)
  return [...before, ...tail]
}
