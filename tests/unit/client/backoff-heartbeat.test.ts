import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Backoff } from '../../../src/shared/client/backoff'
import { Heartbeat, classifyQuality, detectionBoundMs, QUALITY_THRESHOLDS } from '../../../src/shared/client/heartbeat'

describe('Backoff', () => {
  it('doubles from 1 s to a 30 s cap, and starts over after reset', () => {
    const backoff = new Backoff({ jitter: 0 })
    expect(Array.from({ length: 8 }, () => backoff.next())).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ])
    expect(backoff.attempts).toBe(8)
    backoff.reset()
    expect(backoff.next()).toBe(1000)
  })

  it('is configurable, and never passes the cap even with jitter', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 500, jitter: 1, random: () => 0.999 })
    const delays = Array.from({ length: 6 }, () => backoff.next())
    expect(Math.max(...delays)).toBeLessThanOrEqual(500)
    expect(delays[0]).toBeGreaterThan(100)
  })

  it('keeps the default ±20 % jitter within bounds; every draw longer than the one before until the cap', () => {
    for (let run = 0; run < 200; run++) {
      const backoff = new Backoff()
      const delays = Array.from({ length: 5 }, () => backoff.next())
      delays.forEach((delay, i) => {
        const base = 1000 * 2 ** i
        expect(delay).toBeGreaterThanOrEqual(base * 0.8)
        expect(delay).toBeLessThanOrEqual(base * 1.2)
        if (i > 0) expect(delay).toBeGreaterThan(delays[i - 1]!)
      })
    }
  })
})

describe('link quality', () => {
  it('is judged on the average round trip, and is poor after an unanswered ping', () => {
    expect(QUALITY_THRESHOLDS).toEqual({ degradedFromMs: 150, poorFromMs: 600 })
    expect(classifyQuality(null, 0)).toBe('unknown')
    expect(classifyQuality(2, 0)).toBe('good')
    expect(classifyQuality(149, 0)).toBe('good')
    expect(classifyQuality(150, 0)).toBe('degraded')
    expect(classifyQuality(599, 0)).toBe('degraded')
    expect(classifyQuality(600, 0)).toBe('poor')
    expect(classifyQuality(2, 1)).toBe('poor')
  })
})

describe('Heartbeat', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('documents its detection bound: 14 s by default, ≤ 15 s', () => {
    expect(detectionBoundMs()).toBe(14_000)
    expect(detectionBoundMs({ intervalMs: 1000, timeoutMs: 1000 })).toBe(3000)
    // A timeout longer than the interval (an SDK heartbeating every 50 ms): the next ping waits for the deadline.
    expect(detectionBoundMs({ intervalMs: 50, timeoutMs: 4000 })).toBe(50 + 4000 + 4000)
  })

  for (const settings of [
    { intervalMs: 5000, timeoutMs: 4000 },
    { intervalMs: 1000, timeoutMs: 1000 },
    { intervalMs: 50, timeoutMs: 400 },
  ]) {
    it(`notices a link that dies at any moment within the bound (${settings.intervalMs}/${settings.timeoutMs} ms)`, async () => {
      const bound = detectionBoundMs(settings)
      // Let the link die at several offsets into an interval; the verdict must never take longer than the bound.
      for (const offset of [0, 1, settings.intervalMs / 3, settings.intervalMs - 1]) {
        let alive = true
        let deadAt: number | null = null
        const heartbeat = new Heartbeat(settings, {
          ping: () => (alive ? Promise.resolve(Date.now()) : new Promise(() => {})),
          onSample: () => {},
          onMiss: () => {},
          onDead: () => (deadAt = Date.now()),
        })
        await vi.advanceTimersByTimeAsync(settings.intervalMs * 3 + offset)
        alive = false
        const diedAt = Date.now()
        await vi.advanceTimersByTimeAsync(bound + settings.intervalMs)
        heartbeat.stop()
        expect(deadAt).not.toBeNull()
        expect(deadAt! - diedAt).toBeLessThanOrEqual(bound)
      }
    })
  }

  it('ignores an answer that comes after its deadline, and stops cleanly', async () => {
    const samples: number[] = []
    let misses = 0
    const heartbeat = new Heartbeat(
      { intervalMs: 1000, timeoutMs: 500, maxMissed: 3 },
      {
        ping: () => new Promise((resolve) => setTimeout(() => resolve(null), 700)),
        onSample: (s) => samples.push(s.rttMs),
        onMiss: () => misses++,
        onDead: () => {},
      },
    )
    await vi.advanceTimersByTimeAsync(2500)
    expect(samples).toEqual([])
    expect(misses).toBe(2)
    heartbeat.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(misses).toBe(2)
  })
})
