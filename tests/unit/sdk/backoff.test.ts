import { describe, expect, it } from 'vitest'
import { Backoff } from '../../../src/sdk/backoff'

describe('Backoff', () => {
  it('doubles from 1 s to a 30 s cap without jitter', () => {
    const backoff = new Backoff({ jitter: 0 })
    expect(Array.from({ length: 8 }, () => backoff.next())).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ])
    backoff.reset()
    expect(backoff.next()).toBe(1000)
  })

  it('spreads each delay by at most the jitter and never past the cap', () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const backoff = new Backoff({ random: () => r })
      const delays = Array.from({ length: 7 }, () => backoff.next())
      const bases = [1000, 2000, 4000, 8000, 16000, 30000, 30000]
      delays.forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(bases[i]! * 0.5)
        expect(delay).toBeLessThanOrEqual(Math.min(30000, bases[i]! * 1.5))
      })
    }
  })
})
